using KernelMm.Conformance.OutOfProcess;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>The handshake, command-line splitting and the in-process assembly loader.</summary>
[Collection("OutOfProcess")]
public class AdapterTests(NativePrograms programs)
{
    /// <summary>A shell program answering every request with the same JSON (the request's id spliced in).</summary>
    private static string[] Answering(string json) =>
        ["sh", "-c", "while IFS= read -r l; do id=${l#*\\\"id\\\":}; id=${id%%,*}; printf '{\"id\":%s,%s}\\n' \"$id\" '" + json + "'; done"];

    [Fact]
    public void Refusal_OfAProfile_IsNotApplicableWithTheReason()
    {
        using var factory = new ProcessFactory(Answering("\"ok\":false,\"error\":{\"kind\":\"unsupported\",\"message\":\"only 64-bit profiles\"}"));
        Assert.Null(factory.Create(Profiles.X86_32.WithMemory(64UL << 20)));
        Assert.Equal("only 64-bit profiles", factory.Refusals["x86-32/64M"]);
        var result = SuiteRunner.Run(factory, NativePrograms.Options());
        Assert.Empty(result.Failures);
        Assert.All(result.Results.Where(r => r.Rule.Id.StartsWith("PAGE-")), r => Assert.Equal(RuleOutcome.NotApplicable, r.Outcome));
        Assert.Equal(1, factory.Statistics.ProcessesStarted);
    }

    [Fact]
    public void Hello_DeclaringACapabilityTheProtocolDoesNotCarry_IsABootFailure()
    {
        using var factory = new ProcessFactory(Answering("\"ok\":true,\"protocol\":1,\"name\":\"x\",\"capabilities\":[\"PageAllocator\",\"Kmalloc\"]"));
        using var mm = factory.Create(Profiles.X86_32.WithMemory(64UL << 20))!;
        var e = Assert.Throws<ProtocolViolationException>(() => ((IPageAllocator)mm).FreeBlocks(Zone.Dma, 0));
        Assert.Contains("boot failed", e.Message);
        Assert.Contains("Kmalloc, which protocol 1 does not carry", e.Message);
    }

    [Fact]
    public void Hello_WithTheWrongProtocolVersion_IsABootFailure()
    {
        int unknown = Protocol.Latest + 1;
        using var factory = new ProcessFactory(Answering($"\"ok\":true,\"protocol\":{unknown},\"capabilities\":[\"PageAllocator\"]"));
        using var mm = factory.Create(Profiles.X86_32.WithMemory(64UL << 20))!;
        var e = Assert.Throws<ProtocolViolationException>(() => ((IPageAllocator)mm).FreeBlocks(Zone.Dma, 0));
        Assert.Contains($"one of {string.Join(", ", Protocol.Versions)}", e.Message);
        Assert.Contains($"it says {unknown}", e.Message);
    }

    [Fact]
    public void ContractErrors_MapToTheThreeExceptionTypes_AndLeaveTheProcessUsable()
    {
        using var factory = new ProcessFactory([programs.Buddy]);
        using var mm = factory.Create(Profiles.X86_32.WithMemory(64UL << 20))!;
        var pages = (IPageAllocator)mm;
        var bug = Assert.Throws<KernelBugException>(() => pages.FreePages(0xc0001000, 0));
        Assert.Equal("PAGE-4", bug.RuleId);
        var invalid = Assert.Throws<InvalidArgumentException>(() => pages.VirtToPhys(0x1000));
        Assert.Equal("addr", invalid.Parameter);
        var fault = Assert.Throws<KernelPageFaultException>(() => ((IKernelMemory)mm).Read(0x1234, new byte[4]));
        Assert.Equal(0x1234UL, fault.Address);
        Assert.Equal("order", Assert.Throws<InvalidArgumentException>(() => pages.GetFreePages(Gfp.Kernel, -1)).Parameter);
        // Still answering: 64-bit values round-trip as hex strings.
        ulong addr = pages.GetFreePages(Gfp.Kernel, 0);
        Assert.Equal(addr - 0xc0000000UL, pages.VirtToPhys(addr));
        ((IKernelMemory)mm).Write(addr + 5, [1, 2, 3]);
        var back = new byte[5];
        ((IKernelMemory)mm).Read(addr + 4, back);
        Assert.Equal(new byte[] { 0, 1, 2, 3, 0 }, back);
        Assert.Equal(0, factory.Statistics.Faults);
    }

    [Fact]
    public void SixtyFourBitAddresses_SurviveTheProtocol()
    {
        using var factory = new ProcessFactory([programs.Buddy]);
        using var mm = factory.Create(Profiles.Bit64_8K.WithMemory(64UL << 20))!;
        var pages = (IPageAllocator)mm;
        ulong addr = pages.GetFreePages(Gfp.Kernel, 1);
        Assert.True(addr >= Profiles.Bit64_8K.PageOffset, $"0x{addr:x}");
        Assert.Equal(addr - Profiles.Bit64_8K.PageOffset, pages.VirtToPhys(addr));
        Assert.Equal(addr, pages.PageAddress(pages.PfnToPage(pages.VirtToPhys(addr) >> 13)));
    }

    [Fact]
    public void Prefetch_AnswersAnnouncedQueriesFromOneRoundTrip_UntilTheNextStateChange()
    {
        using var factory = new ProcessFactory([programs.Buddy]);
        using var mm = factory.Create(Profiles.X86_32.WithMemory(64UL << 20))!;
        var pages = (IPageAllocator)mm;
        var prefetch = Assert.IsAssignableFrom<IQueryPrefetch>(mm);
        ulong addr = pages.GetFreePages(Gfp.Kernel, 2);
        ulong pfn = (addr - 0xc0000000UL) >> 12;
        long before = factory.Statistics.Exchanges;
        prefetch.Prefetch([PureQuery.VirtToPhys(addr), PureQuery.PfnToPage(pfn), PureQuery.VirtToPhys(0x1000), PureQuery.Read(addr, 16)]);
        Assert.Equal(before + 1, factory.Statistics.Exchanges);
        Assert.Equal(addr - 0xc0000000UL, pages.VirtToPhys(addr));
        Assert.Equal(new PageHandle(pfn + 1), pages.PfnToPage(pfn));
        Assert.Equal("addr", Assert.Throws<InvalidArgumentException>(() => pages.VirtToPhys(0x1000)).Parameter);
        var bytes = new byte[16];
        ((IKernelMemory)mm).Read(addr, bytes);
        Assert.Equal(before + 1, factory.Statistics.Exchanges);
        // A state change drops the prefetched answers: the read goes to the program again and sees the write.
        ((IKernelMemory)mm).Write(addr, [7]);
        ((IKernelMemory)mm).Read(addr, bytes);
        Assert.Equal(7, bytes[0]);
        Assert.Equal(before + 3, factory.Statistics.Exchanges);
    }

    [Theory]
    [InlineData("./buddy --x", new[] { "./buddy", "--x" })]
    [InlineData("  python3   'my impl.py'  \"a \\\"b\\\"\" c\\ d ", new[] { "python3", "my impl.py", "a \"b\"", "c d" })]
    [InlineData("sh -c 'ulimit -v 100000; exec ./impl'", new[] { "sh", "-c", "ulimit -v 100000; exec ./impl" })]
    [InlineData("a''b \"\"", new[] { "ab", "" })]
    public void CommandLine_IsSplitLikeAShell(string line, string[] words) =>
        Assert.Equal(words, CommandLineWords.Split(line));

    [Fact]
    public void CommandLine_UnterminatedQuote_IsAnArgumentError()
    {
        Assert.Throws<ArgumentException>(() => CommandLineWords.Split("prog 'open"));
        Assert.Equal("'it'\\''s'", CommandLineWords.Quote("it's"));
        Assert.Equal("./buddy", CommandLineWords.Quote("./buddy"));
    }

    [Fact]
    public void AssemblyFactory_LoadsTheReferenceInItsOwnContext_AndItPasses()
    {
        string dll = typeof(ReferenceFactory).Assembly.Location;
        var factory = AssemblyFactory.Load(dll);
        Assert.Equal("reference", factory.Name);
        // A separate copy of the implementation, sharing only the contract with the runner.
        Assert.NotSame(typeof(ReferenceFactory), factory.GetType());
        Assert.Same(typeof(IImplementationFactory).Assembly, factory.GetType().GetInterfaces().Single(i => i.Name == nameof(IImplementationFactory)).Assembly);
        var result = SuiteRunner.Run(factory, NativePrograms.Options() with { Settings = new RunSettings { Seed = 1, Sequences = 10, MaxSteps = 30 } });
        Assert.Empty(result.Failures);
        Assert.True(result.Operations > 0);
    }

    [Fact]
    public void AssemblyFactory_ExplainsWhatIsWrong()
    {
        Assert.Contains("does not exist", Assert.Throws<ArgumentException>(() => AssemblyFactory.Load("/nonexistent/impl.dll")).Message);
        Assert.Contains("no public class implementing", Assert.Throws<ArgumentException>(() => AssemblyFactory.Load(typeof(Profile).Assembly.Location)).Message);
        string text = Path.Combine(AppContext.BaseDirectory, $"not-an-assembly-{Guid.NewGuid():N}.dll");
        File.WriteAllText(text, "hello");
        try { Assert.Contains("not a loadable .NET assembly", Assert.Throws<ArgumentException>(() => AssemblyFactory.Load(text)).Message); }
        finally { File.Delete(text); }
    }
}
