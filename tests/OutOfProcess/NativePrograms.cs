using System.Diagnostics;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>
/// Builds examples/c-buddy and examples/misbehaving with the machine's gcc (-O2) into a directory under the
/// test output once per test run, in its correct and deliberately broken variants; nothing binary is committed.
/// </summary>
public sealed class NativePrograms : IDisposable
{
    // Under the test output (bin/, ignored by git), one directory per test process.
    private readonly string _dir = Path.Combine(AppContext.BaseDirectory, "oop-native", $"{Environment.ProcessId}-{Guid.NewGuid():N}");

    public NativePrograms()
    {
        Root = FindRoot();
        Directory.CreateDirectory(_dir);
        string source = Path.Combine(Root, "examples", "c-buddy", "buddy.c");
        Buddy = Compile(source, "buddy");
        BrokenCoalesce = Compile(source, "buddy-broken-coalesce", "-DBROKEN_COALESCE");
        BrokenFreeOrder = Compile(source, "buddy-broken-free-order", "-DBROKEN_FREE_ORDER");
        Misbehave = Compile(Path.Combine(Root, "examples", "misbehaving", "misbehave.c"), "misbehave");
    }

    public string Root { get; }
    public string Buddy { get; }
    public string BrokenCoalesce { get; }
    public string BrokenFreeOrder { get; }
    public string Misbehave { get; }

    /// <summary>misbehave MODE OPTIONS -- buddy (examples/misbehaving)</summary>
    public string[] Misbehaving(string mode, params string[] options) =>
        [Misbehave, mode, .. options, "--", Buddy];

    private string Compile(string source, string name, params string[] defines)
    {
        string output = Path.Combine(_dir, name);
        var psi = new ProcessStartInfo("gcc") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-O2", "-std=c11", "-Wall", "-Wextra" }.Concat(defines).Concat(["-o", output, source])) psi.ArgumentList.Add(a);
        using var gcc = Process.Start(psi)!;
        string errors = gcc.StandardError.ReadToEnd();
        gcc.WaitForExit();
        if (gcc.ExitCode != 0) throw new InvalidOperationException($"gcc failed for {name}:\n{errors}");
        if (errors.Length > 0) throw new InvalidOperationException($"gcc warned for {name}:\n{errors}");
        return output;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Conformance.sln"))) return dir.FullName;
        throw new InvalidOperationException("repository root (Conformance.sln) not found above " + AppContext.BaseDirectory);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
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
