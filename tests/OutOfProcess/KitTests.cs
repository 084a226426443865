using KernelMm.Conformance.OutOfProcess;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using Xunit.Abstractions;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>
/// The client kits (kits/c, kits/python) and the programs built on them: a correct example passes,
/// a deliberately broken one is caught with its rule, and what a kit does on its own (negotiation,
/// capabilities from the callbacks, snapshot, field errors) is what docs/protocol.md says.
/// </summary>
[Collection("OutOfProcess")]
public class KitTests(NativePrograms programs, ITestOutputHelper output)
{
    private static readonly Profile X86_64M = Profiles.X86_32.WithMemory(64UL << 20);

    private static string[] PyBuddy(params string[] args) =>
        ["python3", Path.Combine(NativePrograms.FindRoot(), "examples", "py-buddy", "buddy.py"), .. args];

    private static SuiteOptions Small(params ulong[] memory) => NativePrograms.Options(memory) with
    {
        Settings = new RunSettings { Seed = 5, Sequences = 10, MaxSteps = 30 },
    };

    [Fact]
    public void PythonKit_Buddy_PassesEveryPageRuleItDeclares()
    {
        using var factory = new ProcessFactory(PyBuddy());
        var result = SuiteRunner.Run(factory, Small(64UL << 20, 1UL << 30));
        output.WriteLine($"{result.Operations} checked operations in {result.Elapsed.TotalSeconds:0.00} s; {factory.Statistics}");
        Assert.True(!result.Failures.Any(), NativePrograms.Describe(result));
        Assert.Equal("py-buddy", factory.DeclaredName);
        Assert.Equal(Protocol.Latest, factory.ProtocolVersion);
        // PageAllocator only: the context, highmem and reclaim rules are n/a, the page rules passed.
        Assert.Equal(RuleOutcome.NotApplicable, result.Results.Single(r => r.Rule.Id == "GFP-1").Outcome);
        foreach (var rule in new[] { "PAGE-1", "PAGE-4", "PAGE-7", "ZONE-1", "ADDR-1", "ADDR-11" })
            Assert.Equal(RuleOutcome.Passed, result.Results.Single(r => r.Rule.Id == rule).Outcome);
    }

    [Fact]
    public void PythonKit_BrokenCoalesce_IsCaughtAsPage8()
    {
        using var factory = new ProcessFactory(PyBuddy("--broken-coalesce"));
        var result = SuiteRunner.Run(factory, Small());
        output.WriteLine(NativePrograms.Describe(result));
        Assert.Equal(["PAGE-8"], result.FailedRuleIds);
    }

    [Fact]
    public void PythonKit_ShadowedMethodsAndUnknownOperations_AreHandled()
    {
        // An instance attribute named like an operation does not hide the method; an operation the class
        // lacks is "unsupported"; a malformed field is "invalid" naming it.
        using var factory = new ProcessFactory(PyBuddy());
        using var mm = factory.Create(X86_64M)!;
        // PageAllocator, and (protocol 5) atomic_t and SMP safety on its lanes.
        Assert.Equal(new HashSet<Capability> { Capability.PageAllocator, Capability.AtomicT, Capability.Smp }, mm.Capabilities);
        var pages = (IPageAllocator)mm;
        ulong addr = pages.GetFreePages(Gfp.Kernel, 1);
        Assert.Equal("PAGE-4", Assert.Throws<KernelBugException>(() => pages.FreePages(addr, 0)).RuleId);
        Assert.Equal("zone", Assert.Throws<InvalidArgumentException>(() => pages.FreeBlocks((Zone)7, 0)).Parameter);
        pages.FreePages(addr, 1);
        Assert.Throws<ProtocolViolationException>(() => ((IKmalloc)mm).Kmalloc(8, Gfp.Kernel));
    }

    [Fact]
    public void CKit_PartialCapability_IsNotDeclared_AndFieldErrorsNameTheField()
    {
        // The c-buddy program through raw requests: the kit's own answers, without the suite.
        using var factory = new ProcessFactory([programs.Buddy]);
        using var mm = factory.Create(Profiles.Linux6.WithMemory(64UL << 20))!;
        Assert.True(mm.Capabilities.SetEquals(Operations.Carried(2).Append(Capability.AtomicT).Append(Capability.Smp)), string.Join(", ", mm.Capabilities));
        var km = (IKmalloc)mm;
        Assert.Equal(Profile.ZeroSizePtr, km.Kmalloc(0, Gfp.Kernel));
        Assert.Equal("size", Assert.Throws<InvalidArgumentException>(() => km.Kmalloc(-1, Gfp.Kernel)).Parameter);
        var slab = (ISlab)mm;
        var cache = slab.KmemCacheCreate("caf\u00e9 \"quoted\"", 40, 0, SlabFlags.RedZone | SlabFlags.Poison, null);
        Assert.False(cache.IsNull);
        Assert.Contains(slab.SlabInfo(), i => i.Name == "caf\u00e9 \"quoted\"" && i.ObjectSize == 40);
        Assert.Throws<KernelPanicException>(() => slab.KmemCacheCreate("too big", 1L << 40, 0, SlabFlags.Panic, null));
        Assert.Equal("cache", Assert.Throws<InvalidArgumentException>(() => slab.KmemCacheAlloc(new SlabCacheHandle(999), Gfp.Kernel)).Parameter);
        Assert.Equal(0, factory.Statistics.Faults);
    }

    [Fact]
    public void Protocol1Program_KeepsWorkingUnchanged()
    {
        // The c-buddy of protocol 1, byte for byte (tests/OutOfProcess/Protocol1/buddy-v1.c): it reads
        // "protocol":1 from hello, ignores "versions", answers protocol 1, and passes as before.
        using var factory = new ProcessFactory([programs.BuddyProtocol1]);
        var result = SuiteRunner.Run(factory, Small(64UL << 20) with { Families = new HashSet<string>() });
        Assert.True(!result.Failures.Any(), NativePrograms.Describe(result));
        Assert.Equal(1, factory.ProtocolVersion);
        // The heap family is not run at all: every one of its rules would be n/a for a page-only program.
        Assert.DoesNotContain(result.Properties, p => p.Key.Family == "heap");
        Assert.Equal(RuleOutcome.NotApplicable, result.Results.Single(r => r.Rule.Id == "KMAL-1").Outcome);
        Assert.Equal(RuleOutcome.Passed, result.Results.Single(r => r.Rule.Id == "PAGE-8").Outcome);
    }

    /// <summary>The ten-line examples of docs/protocol.md, as printed: they build, boot and answer.</summary>
    [Fact]
    public void TheKitExamplesOfTheProtocolDocument_RunAsPrinted()
    {
        string root = NativePrograms.FindRoot();
        string doc = File.ReadAllText(Path.Combine(root, "docs", "protocol.md"));
        static string Block(string doc, string section, string language)
        {
            int at = doc.IndexOf(section, StringComparison.Ordinal);
            int start = doc.IndexOf($"```{language}\n", at, StringComparison.Ordinal) + language.Length + 4;
            return doc[start..doc.IndexOf("```", start, StringComparison.Ordinal)];
        }
        string dir = Path.Combine(Path.GetTempPath(), $"kmm-doc-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "tiny.c"), Block(doc, "## The C kit", "c"));
            File.WriteAllText(Path.Combine(dir, "tiny.py"), Block(doc, "## The Python kit", "python"));
            string kit = Path.Combine(root, "kits", "c");
            var gcc = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("gcc",
                ["-O0", "-std=c11", "-Wall", "-Wextra", "-pthread", $"-I{kit}", "-o", Path.Combine(dir, "tiny"), Path.Combine(dir, "tiny.c"), Path.Combine(kit, "kmm.c")])
                { RedirectStandardError = true })!;
            string errors = gcc.StandardError.ReadToEnd();
            gcc.WaitForExit();
            Assert.True(gcc.ExitCode == 0 && errors.Length == 0, errors);
            var env = new Dictionary<string, string> { ["PYTHONPATH"] = Path.Combine(root, "kits", "python") };
            foreach (var command in new[] { new[] { Path.Combine(dir, "tiny") }, new[] { "python3", Path.Combine(dir, "tiny.py") } })
            {
                using var factory = new ProcessFactory(command, new ProcessFactoryOptions { Environment = env });
                using var mm = factory.Create(X86_64M)!;
                Assert.Equal("tiny", factory.DeclaredName);
                Assert.Empty(mm.Capabilities); // the examples are the first ten lines, not a whole allocator
                var pages = (IPageAllocator)mm;
                ulong addr = pages.GetFreePages(Gfp.Kernel, 0);
                Assert.Equal(0xC000_0000UL, addr);
                Assert.Equal("PAGE-4", Assert.Throws<KernelBugException>(() => pages.FreePages(addr, 1)).RuleId);
                pages.FreePages(addr, 0);
                Assert.Equal("order", Assert.Throws<InvalidArgumentException>(() => pages.GetFreePages(Gfp.Kernel, -1)).Parameter);
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
