using FsCheck;
using KernelMm.Conformance.Checking;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Families.User;

/// <summary>User space: processes, mmap/munmap/mprotect, fork and copy-on-write, swap, driver mmap and user copies, as one generated family.</summary>
public sealed class UserFamily : ConformanceFamily<UserOp>
{
    public override string Name => "user";
    public override Capability Gate => Capability.UserMemory;
    public override string PrimaryRule => "MMAP-1";
    public override IReadOnlyList<string> RuleIds { get; } =
    [
        "ADDR-4", "ADDR-5", "ADDR-6", "ADDR-7", "ADDR-9",
        "MMAP-1", "MMAP-2", "MMAP-3", "MMAP-4", "MMAP-5", "MMAP-6", "MMAP-7", "MMAP-8", "MMAP-9", "MMAP-10",
        "DRV-1", "DRV-2", "DRV-3", "DRV-4",
        "UACC-1", "UACC-2", "UACC-3",
        "SWAP-1", "SWAP-2",
    ];

    public override Gen<UserOp[]> Generator(Profile profile) => UserGen.Sequence(profile);
    public override IEnumerable<UserOp[]> Shrink(UserOp[] ops) => UserGen.Shrink(ops);
    public override void Execute(IMemoryManager mm, UserOp[] ops, CheckScope scope, Trace trace) => UserMachine.Run(mm, ops, scope, trace);
}
