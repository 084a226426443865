using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Spec.Rules;

namespace KernelMm.Tests.Suite;

/// <summary>
/// Which rules apply to what an implementation declares (issue 10): a rule's requirement is all of
/// <see cref="Rule.Requires"/> or all of one of <see cref="Rule.OrRequires"/>, and an implementation
/// of user space alone (UserMemory, no PageAllocator: the live kernel) is judged on the rules of its
/// side, with every other family n/a and not run.
/// </summary>
public class RequirementsTests
{
    private const ulong MiB = 1UL << 20;

    private static Rule R(string id) => RuleCatalogue.All.Single(r => r.Id == id);
    private static HashSet<Capability> Caps(params Capability[] c) => [.. c];

    [Theory]
    [InlineData("ADDR-5", new[] { Capability.Vmalloc }, true)]
    [InlineData("ADDR-5", new[] { Capability.UserMemory }, true)]
    [InlineData("ADDR-5", new[] { Capability.PageAllocator }, false)]
    [InlineData("ADDR-6", new[] { Capability.Vmalloc, Capability.KernelPageTables }, true)]
    [InlineData("ADDR-6", new[] { Capability.Vmalloc }, false)]
    [InlineData("ADDR-6", new[] { Capability.UserMemory }, true)]
    [InlineData("ADDR-3", new[] { Capability.UserMemory }, false)]
    [InlineData("SWAP-1", new[] { Capability.UserMemory }, false)]
    [InlineData("SWAP-1", new[] { Capability.UserMemory, Capability.Swap }, true)]
    public void A_rule_applies_when_all_of_one_of_its_alternatives_is_declared(string id, Capability[] declared, bool applies)
    {
        Assert.Equal(applies, Requirements.Met(R(id), Caps(declared)));
        Assert.Equal(applies, Requirements.Missing(R(id), Caps(declared)) is null);
    }

    [Fact]
    public void The_reason_names_what_each_alternative_lacks()
    {
        Assert.Equal("Vmalloc, KernelPageTables (or instead: UserMemory)", Requirements.Missing(R("ADDR-6"), Caps(Capability.PageAllocator)));
        Assert.Equal("KernelPageTables (or instead: UserMemory)", Requirements.Missing(R("ADDR-6"), Caps(Capability.Vmalloc)));
        Assert.Equal("Swap", Requirements.Missing(R("SWAP-1"), Caps(Capability.UserMemory)));
        Assert.Equal("Vmalloc, KernelPageTables; or UserMemory", Requirements.Describe(R("ADDR-6")));
        Assert.Equal("UserMemory, Swap", Requirements.Describe(R("SWAP-1")));
    }

    /// <summary>
    /// An alternative must be one a family can judge: for each, a family whose gate it includes lists the
    /// rule. Otherwise an implementation declaring just that alternative would have the rule applicable and
    /// never checked (UNEXERCISED), or checked by a family it never runs.
    /// </summary>
    [Fact]
    public void Every_alternative_of_a_rule_is_judged_by_a_family_gated_on_it()
    {
        var withAlternatives = RuleCatalogue.All.Where(r => r.OrRequires.Count > 0).ToList();
        Assert.Contains(withAlternatives, r => r.Id == "ADDR-5");
        Assert.Contains(withAlternatives, r => r.Id == "ADDR-6");
        foreach (var rule in withAlternatives)
            foreach (var set in Requirements.Alternatives(rule))
                Assert.True(SuiteRunner.Families.Any(f => set.Contains(f.Gate) && f.RuleIds.Contains(rule.Id)),
                    $"{rule.Id}: no family gated on one of [{string.Join(", ", set)}] checks it");
    }

    [Fact]
    public void An_implementation_of_user_space_alone_is_judged_on_its_rules_and_the_other_families_are_not_run()
    {
        var result = SuiteRunner.Run(new UserOnlyFactory(), new SuiteOptions
        {
            Profiles = [Profiles.X86_64],
            MemorySizes = [512 * MiB],
            Settings = new RunSettings { Seed = SuiteRuns.Seed, Sequences = 12, MaxSteps = 60 },
        });
        Assert.True(result.Passed, SuiteRuns.Explain(result));
        Assert.Equal(["user"], result.Properties.Select(p => p.Key.Family).Distinct());
        var row = result.Results.ToDictionary(r => r.Rule.Id);
        foreach (var id in new[] { "ADDR-4", "ADDR-5", "ADDR-6", "ADDR-7", "ADDR-9", "MMAP-1", "MMAP-8" })
            Assert.True(row[id].Outcome == RuleOutcome.Passed, $"{id}: {row[id].Outcome} ({row[id].Reason})");
        Assert.Equal(RuleOutcome.NotApplicable, row["PAGE-1"].Outcome);
        Assert.Equal("not declared: PageAllocator", row["PAGE-1"].Reason);
        Assert.Equal("not declared: Vmalloc, KernelPageTables", row["ADDR-3"].Reason);
        Assert.Equal("not declared: Swap", row["SWAP-1"].Reason);
    }

    /// <summary>
    /// A family runs only when every capability its sequences call is declared (<see cref="IConformanceFamily.Needs"/>):
    /// the vm family allocates and counts pages around its vmalloc traffic. A program declaring Vmalloc alone is not
    /// sent vm sequences (they would call a page allocator it does not have), and the rules only the vm family judges
    /// are n/a with what is missing, never unexercised.
    /// </summary>
    [Fact]
    public void A_family_is_not_run_without_every_capability_its_sequences_call()
    {
        var vm = SuiteRunner.Families.Single(f => f.Name == "vm");
        Assert.Equal([Capability.Vmalloc, Capability.PageAllocator], vm.Needs);
        Assert.False(SuiteRunner.Runs(vm, Caps(Capability.Vmalloc, Capability.KernelPageTables)));
        Assert.True(SuiteRunner.Runs(vm, Caps(Capability.Vmalloc, Capability.PageAllocator)));
        Assert.False(SuiteRunner.Runs(SuiteRunner.Families.Single(f => f.Name == "smp"), Caps(Capability.Smp)));

        var result = SuiteRunner.Run(new VmallocOnlyFactory(), new SuiteOptions
        {
            Profiles = [Profiles.X86_32],
            MemorySizes = [64 * MiB],
            Settings = new RunSettings { Seed = SuiteRuns.Seed, Sequences = 4, MaxSteps = 20 },
        });
        Assert.Empty(result.Properties);
        var row = result.Results.ToDictionary(r => r.Rule.Id);
        Assert.Equal(RuleOutcome.NotApplicable, row["VMAL-1"].Outcome);
        Assert.Equal("not declared: PageAllocator (the vm family, which judges it, also calls it)", row["VMAL-1"].Reason);
        Assert.DoesNotContain(result.Results, r => r.Outcome is RuleOutcome.NotExercised or RuleOutcome.Failed or RuleOutcome.Passed);
    }

    private sealed class VmallocOnlyFactory : IImplementationFactory
    {
        public string Name => "reference, vmalloc only";
        public IMemoryManager? Create(Profile profile) => new VmallocOnly(new ReferenceKernel(profile));
    }

    private sealed class VmallocOnly(ReferenceKernel inner) : IMemoryManager, IVmalloc
    {
        public Profile Profile => inner.Profile;
        public IReadOnlySet<Capability> Capabilities { get; } = new HashSet<Capability> { Capability.Vmalloc };
        public void Dispose() => inner.Dispose();

        public ulong Vmalloc(long size) => inner.Vmalloc(size);
        public ulong Vzalloc(long size) => inner.Vzalloc(size);
        public void Vfree(ulong addr) => inner.Vfree(addr);
        public ulong VmallocToPfn(ulong addr) => inner.VmallocToPfn(addr);
        public bool IsVmallocAddr(ulong addr) => inner.IsVmallocAddr(addr);
    }

    /// <summary>The reference seen through <see cref="IUserMemory"/> only, declaring UserMemory alone (as the live kernel does).</summary>
    private sealed class UserOnlyFactory : IImplementationFactory
    {
        public string Name => "reference, user space only";
        public IMemoryManager? Create(Profile profile) => new UserOnly(new ReferenceKernel(profile));
    }

    private sealed class UserOnly(ReferenceKernel inner) : IMemoryManager, IUserMemory
    {
        public Profile Profile => inner.Profile;
        public IReadOnlySet<Capability> Capabilities { get; } = new HashSet<Capability> { Capability.UserMemory };
        public void Dispose() => inner.Dispose();

        public int CreateProcess() => inner.CreateProcess();
        public int Fork(int pid) => inner.Fork(pid);
        public void Exit(int pid) => inner.Exit(pid);
        public long PageFaults(int pid) => inner.PageFaults(pid);
        public int CreateFile(long size) => inner.CreateFile(size);
        public int ReadFile(int file, long offset, Span<byte> destination) => inner.ReadFile(file, offset, destination);
        public void WriteFile(int file, long offset, ReadOnlySpan<byte> source) => inner.WriteFile(file, offset, source);
        public int Open(int pid, int file, OpenMode mode) => inner.Open(pid, file, mode);
        public int OpenDevice(int pid, int device) => inner.OpenDevice(pid, device);
        public int Close(int pid, int fd) => inner.Close(pid, fd);
        public long Mmap(int pid, ulong addr, ulong length, Prot prot, MapFlags flags, int fd, long offset) => inner.Mmap(pid, addr, length, prot, flags, fd, offset);
        public int Munmap(int pid, ulong addr, ulong length) => inner.Munmap(pid, addr, length);
        public int Mprotect(int pid, ulong addr, ulong length, Prot prot) => inner.Mprotect(pid, addr, length, prot);
        public UserFault UserRead(int pid, ulong addr, Span<byte> destination) => inner.UserRead(pid, addr, destination);
        public UserFault UserWrite(int pid, ulong addr, ReadOnlySpan<byte> source) => inner.UserWrite(pid, addr, source);
    }
}
