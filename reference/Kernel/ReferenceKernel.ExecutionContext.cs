using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using static KernelMm.Reference.Mm.MemMap;

namespace KernelMm.Reference;

/// <summary>IExecutionContext: preempt and irq counts (Mm/Sched).</summary>
public sealed partial class ReferenceKernel : IExecutionContext
{
    public void PreemptDisable() => _sched.PreemptDisable();
    public void PreemptEnable() => _sched.PreemptEnable();
    public void IrqEnter() => _sched.IrqEnter();
    public void IrqExit() => _sched.IrqExit();
    public bool InInterrupt => _sched.InInterrupt;
    public bool InAtomic => _sched.InAtomic;
    public long Sleeps => _sched.Sleeps;
}
