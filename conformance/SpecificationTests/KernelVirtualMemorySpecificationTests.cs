using KernelMm.Spec.Contract;
using KernelMm.Spec.Rules;

namespace KernelMm.Conformance.Specification;

/// <summary>
/// The kernel virtual memory family ("vm"): vmalloc, vzalloc and vfree (VMAL), the kernel's page
/// tables and TLB (ADDR-2/3/5/6/8, kernel side), kmaps through the PKMAP window (ZONE-4), kfree of
/// vmalloc memory (KMAL-6) and ioremap (DRV-5), interleaved with page and kmalloc traffic, context
/// changes and memory pressure.
/// </summary>
/// <remarks>
/// <para>Derive one class and override <see cref="FamilySpecificationTests.CreateFactory"/>:</para>
/// <code>
/// public sealed class MyKernelVmTests : KernelVirtualMemorySpecificationTests
/// {
///     protected override IImplementationFactory CreateFactory() => new MyFactory();
/// }
/// </code>
/// <para>The family runs on implementations that declare <see cref="Capability.Vmalloc"/>
/// (<see cref="IVmalloc"/>) besides <see cref="Capability.PageAllocator"/>. The translation rules
/// (ADDR-3, ADDR-6, DRV-5) also need <see cref="Capability.KernelPageTables"/>
/// (<see cref="IKernelPageTables"/>); ADDR-8 needs the optional <see cref="Capability.Tlb"/>
/// (<see cref="ITlb"/>) as well; VMAL-3 needs <see cref="Capability.ExecutionContext"/>. A rule
/// whose capability is not declared is skipped as n/a. An implementation without vmalloc should
/// list the family as unsupported in its <see cref="ComplianceSpecificationTests"/> instead of
/// deriving this class.</para>
/// </remarks>
[SpecificationFamily("vm", RuleFamily.VMAL)]
public abstract class KernelVirtualMemorySpecificationTests : FamilySpecificationTests;
