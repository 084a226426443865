using KernelMm.Spec.Contract;
using KernelMm.Spec.Rules;

namespace KernelMm.Conformance.Specification;

/// <summary>
/// The user family: processes and their address spaces (mmap, munmap, mprotect, fork with
/// copy-on-write, exit), driver mmap (DRV-1..4), user copies (UACC) and swapping (SWAP), and the
/// user side of the address rules (ADDR-4, -5, -6, -7, -9), over several processes at once.
/// </summary>
/// <remarks>
/// <para>Derive one class and override <see cref="FamilySpecificationTests.CreateFactory"/>:</para>
/// <code>
/// public sealed class MyUserSpaceTests : UserSpecificationTests
/// {
///     protected override IImplementationFactory CreateFactory() => new MyFactory();
/// }
/// </code>
/// <para>The family runs on implementations that declare <see cref="Capability.UserMemory"/>
/// (<see cref="IUserMemory"/>): the MMAP rules and ADDR-4/5/6/7/9 need nothing more. DRV-1..4 also
/// need <see cref="Capability.DriverMmap"/> and <see cref="Capability.PageAllocator"/>, UACC
/// <see cref="Capability.UserCopy"/> and <see cref="Capability.PageAllocator"/>, SWAP
/// <see cref="Capability.Swap"/> (SWAP-2 also <see cref="Capability.PageAllocator"/>); a rule whose
/// capability is not declared is skipped as n/a (a real kernel without a swap device, for one). The
/// profiles' user window (<c>Profile.UserWindowStart</c>, <c>UserWindowSize</c>) is where the suite
/// places fixed mappings: keep your own mappings out of it. An implementation without user space
/// lists the family as unsupported in its <see cref="ComplianceSpecificationTests"/>.</para>
/// </remarks>
[SpecificationFamily("user", RuleFamily.MMAP, RuleFamily.DRV, RuleFamily.UACC, RuleFamily.SWAP)]
public abstract class UserSpecificationTests : FamilySpecificationTests;
