using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using static KernelMm.Reference.Mm.MemMap;

namespace KernelMm.Reference;

/// <summary>IExecutionContext: preempt and irq counts (Mm/Sched).</summary>
public sealed partial class ReferenceKernel : IExecutionContext
{
    public void PreemptDisable() { Alive(); _sched.PreemptDisable(); }
    public void PreemptEnable() { Alive(); _sched.PreemptEnable(); }
    public void IrqEnter() { Alive(); _sched.IrqEnter(); }
    public void IrqExit() { Alive(); _sched.IrqExit(); }
    public bool InInterrupt { get { Alive(); return _sched.InInterrupt; } }
    public bool InAtomic { get { Alive(); return _sched.InAtomic; } }
    public long Sleeps { get { Alive(); return _sched.Sleeps; } }
}
