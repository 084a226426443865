using KernelMm.Conformance.Checking;
using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Families.Shared;

/// <summary>The four context transitions a sequence can make.</summary>
public enum ContextStep { PreemptDisable, PreemptEnable, IrqEnter, IrqExit }

/// <summary>
/// Drives preempt_disable/enable and irq_enter/exit for any family, keeps the expected depths,
/// and checks GFP-5 after every transition (including that an unbalanced exit is reported).
/// </summary>
internal sealed class ContextDriver(IExecutionContext? ctx, CheckScope scope, Trace trace)
{
    /// <summary>Deepest nesting a sequence builds, so that most steps still run in process context.</summary>
    private const int MaxDepth = 3;

    public int PreemptDepth { get; private set; }
    public int IrqDepth { get; private set; }
    public bool InAtomic => PreemptDepth > 0 || IrqDepth > 0;
    public bool Available => ctx is not null;

    public void Step(ContextStep step)
    {
        if (ctx is null) return;
        bool preempt = step is ContextStep.PreemptDisable or ContextStep.PreemptEnable;
        bool entering = step is ContextStep.PreemptDisable or ContextStep.IrqEnter;
        int depth = preempt ? PreemptDepth : IrqDepth;
        if (entering && depth >= MaxDepth) return;
        scope.Operations++;
        var (call, code, action) = step switch
        {
            ContextStep.PreemptDisable => ("preempt_disable()", "ctx.PreemptDisable();", (Action)ctx.PreemptDisable),
            ContextStep.PreemptEnable => ("preempt_enable()", "ctx.PreemptEnable();", ctx.PreemptEnable),
            ContextStep.IrqEnter => ("irq_enter()", "ctx.IrqEnter();", ctx.IrqEnter),
            _ => ("irq_exit()", "ctx.IrqExit();", ctx.IrqExit),
        };
        var e = Calls.Try(action);
        string outcome = Calls.Describe(e);
        if (!entering && depth == 0)
        {
            if (trace.Enabled) trace.Step($"{call} while not entered -> {outcome}", $"Assert.Throws<KernelBugException>(() => {code.TrimEnd(';')});");
            scope.That("GFP-5", e is KernelBugException { RuleId: "GFP-5" }, $"unbalanced {call} must be reported as GFP-5, got {outcome}");
        }
        else
        {
            if (trace.Enabled) trace.Step($"{call} -> {outcome}", code);
            scope.That("GFP-5", e is null, $"{call} failed: {outcome}");
            int next = depth + (entering ? 1 : -1);
            if (preempt) PreemptDepth = next; else IrqDepth = next;
        }
        bool inIrq = ctx.InInterrupt, inAtomic = ctx.InAtomic;
        scope.That("GFP-5", inIrq == IrqDepth > 0 && inAtomic == InAtomic,
            $"after {call} (preempt depth {PreemptDepth}, irq depth {IrqDepth}): in_interrupt() = {inIrq}, in_atomic() = {inAtomic}; expected {IrqDepth > 0} and {InAtomic}");
    }

    /// <summary>Checks the context a fresh machine boots in.</summary>
    public void CheckBoot()
    {
        if (ctx is not null)
            scope.That("GFP-5", !ctx.InAtomic && !ctx.InInterrupt, () => "a freshly booted CPU reports atomic or interrupt context");
    }
}
