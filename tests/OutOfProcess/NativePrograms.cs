using System.Diagnostics;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>
/// Builds examples/c-buddy and examples/misbehaving with the machine's gcc (-O2) into a directory under the
/// test output once per test process (shared by every collection that uses it, deleted when the process
/// ends), in its correct and deliberately broken variants; nothing binary is committed.
/// </summary>
public sealed class NativePrograms
{
    // Under the test output (bin/, ignored by git), one directory per test process.
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "oop-native", $"{Environment.ProcessId}-{Guid.NewGuid():N}");
    private static readonly Lazy<NativePrograms> Built = new(() => new NativePrograms(0));

    /// <summary>The fixture: the programs of this test process, built on first use.</summary>
    public NativePrograms() : this(Built.Value) { }

    private NativePrograms(NativePrograms built)
    {
        Root = built.Root;
        Buddy = built.Buddy;
        BrokenCoalesce = built.BrokenCoalesce;
        BrokenFreeOrder = built.BrokenFreeOrder;
        BrokenRedZone = built.BrokenRedZone;
        BuddyProtocol1 = built.BuddyProtocol1;
        Misbehave = built.Misbehave;
    }

    private NativePrograms(int _)
    {
        Root = FindRoot();
        Directory.CreateDirectory(Dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        string kit = Path.Combine(Root, "kits", "c");
        string example = Path.Combine(Root, "examples", "c-buddy");
        string[] sources = [Path.Combine(example, "buddy.c"), Path.Combine(example, "slab.c"), Path.Combine(example, "atomic.c"), Path.Combine(kit, "kmm.c"), $"-I{kit}", "-pthread"];
        Buddy = Compile(sources, "buddy");
        BrokenCoalesce = Compile(sources, "buddy-broken-coalesce", "-DBROKEN_COALESCE");
        BrokenFreeOrder = Compile(sources, "buddy-broken-free-order", "-DBROKEN_FREE_ORDER");
        BrokenRedZone = Compile(sources, "buddy-broken-red-zone", "-DBROKEN_RED_ZONE");
        BuddyProtocol1 = Compile([Path.Combine(Root, "tests", "OutOfProcess", "Protocol1", "buddy-v1.c")], "buddy-v1");
        Misbehave = Compile([Path.Combine(Root, "examples", "misbehaving", "misbehave.c")], "misbehave");
    }

    public string Root { get; }
    public string Buddy { get; }
    public string BrokenCoalesce { get; }
    public string BrokenFreeOrder { get; }
    public string BrokenRedZone { get; }
    /// <summary>The c-buddy of protocol 1, kept unchanged (tests/OutOfProcess/Protocol1): older programs must keep working.</summary>
    public string BuddyProtocol1 { get; }
    public string Misbehave { get; }

    /// <summary>misbehave MODE OPTIONS -- buddy (examples/misbehaving)</summary>
    public string[] Misbehaving(string mode, params string[] options) =>
        [Misbehave, mode, .. options, "--", Buddy];

    private static string Compile(string[] sources, string name, params string[] defines)
    {
        string output = Path.Combine(Dir, name);
        var psi = new ProcessStartInfo("gcc") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-O2", "-std=c11", "-Wall", "-Wextra" }.Concat(defines).Concat(["-o", output]).Concat(sources)) psi.ArgumentList.Add(a);
        using var gcc = Process.Start(psi)!;
        string errors = gcc.StandardError.ReadToEnd();
        gcc.WaitForExit();
        if (gcc.ExitCode != 0) throw new InvalidOperationException($"gcc failed for {name}:\n{errors}");
        if (errors.Length > 0) throw new InvalidOperationException($"gcc warned for {name}:\n{errors}");
        return output;
    }

    public static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Conformance.sln"))) return dir.FullName;
        throw new InvalidOperationException("repository root (Conformance.sln) not found above " + AppContext.BaseDirectory);
    }


    // ---- Shared helpers -------------------------------------------------------------------

    /// <summary>The brief's settings: x86-32, the page family, seed 1, 30 sequences of up to 40 steps.</summary>
    public static SuiteOptions Options(params ulong[] memory) => new()
    {
        Profiles = [Profiles.X86_32],
        MemorySizes = memory.Length > 0 ? memory : [64UL << 20],
        Families = new HashSet<string> { "pages" },
        Settings = new RunSettings { Seed = 1, Sequences = 30, MaxSteps = 40 },
    };

    public static string Describe(SuiteResult result) =>
        string.Join("\n", result.Results
            .Where(r => r.Outcome is RuleOutcome.Failed or RuleOutcome.NotExercised)
            .Select(r => $"{r.Rule.Id} {r.Outcome}: {r.Counterexample?.Message ?? r.Reason}\n    " +
                         string.Join("\n    ", r.Counterexample?.Trace ?? [])));
}

[CollectionDefinition("OutOfProcess")]
public sealed class OutOfProcessCollection : ICollectionFixture<NativePrograms>;

/// <summary>Tests that measure the test process itself (its allocations): run alone, after the parallel collections.</summary>
[CollectionDefinition("OutOfProcessAlone", DisableParallelization = true)]
public sealed class OutOfProcessAloneCollection : ICollectionFixture<NativePrograms>;
