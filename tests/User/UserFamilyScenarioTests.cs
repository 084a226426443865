using KernelMm.Conformance.Checking;
using KernelMm.Conformance.Families.User;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using static KernelMm.Conformance.Families.User.UserOpKind;

namespace KernelMm.Tests.User;

/// <summary>Hand-written user-family sequences on the reference: every check they reach holds, and each reaches the rules it is about.</summary>
public class UserFamilyScenarioTests
{
    private static (CheckScope Scope, Trace Trace, Exception? Error) Run(Profile profile, params UserOp[] ops) => Run(new ReferenceFactory(), profile, ops);

    private static (CheckScope Scope, Trace Trace, Exception? Error) Run(IImplementationFactory factory, Profile profile, params UserOp[] ops)
    {
        var scope = new CheckScope();
        var trace = new Trace { Enabled = true };
        using var mm = factory.Create(profile)!;
        try { new UserFamily().Execute(mm, ops, scope, trace); return (scope, trace, null); }
        catch (Exception e) { return (scope, trace, e); }
    }

    private static void AssertReaches((CheckScope Scope, Trace Trace, Exception? Error) run, params string[] rules)
    {
        Assert.True(run.Error is null, $"{run.Error?.Message}\n{run.Trace.Render()}");
        foreach (var rule in rules)
            Assert.True(run.Scope.Counts.GetValueOrDefault(rule) > 0, $"{rule} was not checked\n{run.Trace.Render()}");
    }

    [Fact]
    public void DriverMappings_ReachDrv1To4()
    {
        var run = Run(Profiles.X86_32.WithMemory(64UL << 20),
            new UserOp(Spawn),
            new UserOp(RegisterRemap, Pages: 2, Seed: 3),
            new UserOp(RegisterPageList, Pages: 3, Seed: 4),
            new UserOp(MmapDevice, Target: 0, Pages: 2, Offset: 0),
            new UserOp(MmapDevice, Target: 1, Pages: 2, Offset: 1),
            new UserOp(Write, Target: 0, Pages: 1, Offset: 8, Length: 4, Seed: 9),
            new UserOp(KernelWriteDevice, Target: 1, Pages: 2, Offset: 16, Length: 8, Seed: 10),
            new UserOp(Fork),
            new UserOp(Write, Proc: 1, Target: 1, Pages: 0, Offset: 32, Length: 4, Seed: 11));
        AssertReaches(run, "DRV-1", "DRV-2", "DRV-3", "DRV-4");
    }

    [Fact]
    public void ForkSwapAndCopies_ReachTheirRules()
    {
        var rw = Prot.Read | Prot.Write;
        var run = Run(Profiles.Linux6.WithMemory(64UL << 20),
            new UserOp(Spawn),
            new UserOp(MmapAnon, Pages: 4, Prot: rw, Flags: MapFlags.Private | MapFlags.Anonymous, Place: Placement.Fixed, Offset: 5),
            new UserOp(MmapAnon, Pages: 2, Prot: rw, Flags: MapFlags.Shared | MapFlags.Anonymous, Place: Placement.Fixed, Offset: 40),
            new UserOp(Write, Target: 0, Pages: 1, Offset: 100, Length: 16, Seed: 1),
            new UserOp(Write, Target: 1, Pages: 0, Offset: 10, Length: 16, Seed: 2),
            new UserOp(Fork),
            new UserOp(Write, Proc: 1, Target: 0, Pages: 1, Offset: 100, Length: 16, Seed: 3),
            new UserOp(Write, Proc: 1, Target: 1, Pages: 0, Offset: 10, Length: 16, Seed: 4),
            new UserOp(SwapOut, Pages: 64),
            new UserOp(CopyToUser, Target: 0, Pages: 3, Offset: 4000, Length: 300, Seed: 5),
            new UserOp(CopyFromUser, Target: 0, Pages: 0, Offset: 10, Length: 5000),
            new UserOp(GetUser, Target: 0, Pages: 0, Offset: 7, Length: 4),
            new UserOp(PutUser, Target: 0, Pages: 3, Offset: 9, Length: 2, Seed: 6),
            new UserOp(Pressure),
            new UserOp(BigMap),
            new UserOp(ExitAll));
        AssertReaches(run, "ADDR-4", "ADDR-5", "ADDR-6", "MMAP-5", "SWAP-1", "SWAP-2", "UACC-1", "UACC-2", "GFP-4");
    }

    [Fact]
    public void ExitOfEveryProcess_GivesEveryFrameBack()
    {
        var rw = Prot.Read | Prot.Write;
        var run = Run(Profiles.X86_32.WithMemory(64UL << 20),
            new UserOp(Spawn),
            new UserOp(MmapAnon, Pages: 8, Prot: rw, Flags: MapFlags.Private | MapFlags.Anonymous),
            new UserOp(Write, Pages: 3, Length: 8, Seed: 1),
            new UserOp(Fork),
            new UserOp(Write, Proc: 1, Pages: 3, Length: 8, Seed: 2),
            new UserOp(SwapOut, Pages: 1),
            new UserOp(ExitAll));
        Assert.True(run.Error is null, $"{run.Error?.Message}\n{run.Trace.Render()}");
        Assert.True(run.Scope.Counts.GetValueOrDefault("ADDR-11") > 0 || run.Scope.Counts.GetValueOrDefault("SWAP-2") > 0, run.Trace.Render());
    }

    [Fact]
    public void PrivateFileWrite_IsCheckedAgainstTheFile()
    {
        var rw = Prot.Read | Prot.Write;
        var run = Run(Profiles.X86_32.WithMemory(64UL << 20),
            new UserOp(Spawn),
            new UserOp(CreateFile, Pages: 2),
            new UserOp(OpenFile, Offset: 2),
            new UserOp(MmapFile, Pages: 2, Prot: rw, Flags: MapFlags.Private),
            new UserOp(Write, Target: 0, Pages: 0, Offset: 5, Length: 4, Seed: 1));
        AssertReaches(run, "MMAP-7");
    }

    [Fact]
    public void PrivateFileWriteReachingTheFile_IsReportedAsMmap7()
    {
        var rw = Prot.Read | Prot.Write;
        var run = Run(new KernelMm.Tests.UserVariants.BrokenUserFactory(KernelMm.Tests.UserVariants.UserBreak.PrivateWriteReachesFile), Profiles.X86_32.WithMemory(64UL << 20),
            new UserOp(Spawn),
            new UserOp(CreateFile, Pages: 2),
            new UserOp(OpenFile, Offset: 2),
            new UserOp(MmapFile, Pages: 2, Prot: rw, Flags: MapFlags.Private),
            new UserOp(Write, Target: 0, Pages: 0, Offset: 5, Length: 4, Seed: 1));
        Assert.True(run.Error is KernelMm.Conformance.Checking.RuleViolation { RuleId: "MMAP-7" }, $"{run.Error}\n{run.Trace.Render()}");
    }
}
