using KernelMm.Spec.Contract;

namespace KernelMm.Reference.Mm;

/// <summary>
/// The current CPU's context (preempt_count split into preemption and hard-irq parts) and the
/// current task's sleeps (kernel/sched/core.c).
/// </summary>
internal sealed class Sched : IExecutionContext
{
    /// <summary>
    /// Deepest nesting the fields of preempt_count hold (include/linux/preempt.h): 8 bits of
    /// preemption count, 4 bits of hard-irq count. One more would carry into the next field;
    /// CONFIG_DEBUG_PREEMPT warns before that, and here the call is refused with nothing changed.
    /// </summary>
    public const int MaxPreemptDepth = 255, MaxIrqDepth = 15;

    private int _preemptDepth;
    private int _irqDepth;

    public long Sleeps { get; private set; }
    public bool InInterrupt => _irqDepth > 0;
    public bool InAtomic => _preemptDepth > 0 || _irqDepth > 0;

    public void PreemptDisable()
    {
        // GFP-5: the count must never wrap to "not atomic".
        if (_preemptDepth >= MaxPreemptDepth)
            throw new KernelBugException("GFP-5", $"preempt_disable() nested deeper than {MaxPreemptDepth} (preempt_count overflow)");
        _preemptDepth++;
    }

    public void PreemptEnable()
    {
        // GFP-5: the counts must balance.
        if (_preemptDepth == 0) throw new KernelBugException("GFP-5", "preempt_enable() without preempt_disable() (preempt_count underflow)");
        _preemptDepth--;
    }

    public void IrqEnter()
    {
        if (_irqDepth >= MaxIrqDepth)
            throw new KernelBugException("GFP-5", $"irq_enter() nested deeper than {MaxIrqDepth} (hardirq count overflow)");
        _irqDepth++;
    }

    public void IrqExit()
    {
        if (_irqDepth == 0) throw new KernelBugException("GFP-5", "irq_exit() outside an interrupt (hardirq count underflow)");
        _irqDepth--;
    }

    /// <summary>might_sleep(): GFP-1 reports every call that may sleep in atomic context, before it does anything.</summary>
    public void MightSleep(string what)
    {
        if (InAtomic)
            throw new KernelBugException("GFP-1",
                $"sleeping function called from invalid context: {what} (in_interrupt: {_irqDepth}, preempt depth: {_preemptDepth})");
    }

    /// <summary>schedule(): the task blocks (e.g. while reclaim writes pages back).</summary>
    public void Sleep() => Sleeps++;
}
