using KernelMm.Conformance.OutOfProcess;
using KernelMm.Spec.Contract;
using System.Diagnostics;
using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Profiles;
using KernelMm.Spec.Rules;

namespace KernelMm.Conformance.Cli;

/// <summary>
/// kmm-conformance: runs the conformance suite (against the reference unless told otherwise) and
/// lists the rule catalogue. Exit code 0 when every applicable rule passed, 1 on a failure, 2 on bad usage.
/// </summary>
public static class Program
{
    private const string Usage = """
        usage:
          kmm-conformance run [--profile NAME]... [--memory SIZE[,SIZE...]] [--seed N | --replay N]
                              [--sequences N] [--max-steps N] [--family NAME]... [--rule ID]...
                              [--junit PATH] [--json PATH] [--html PATH]
                              [--db PATH | --no-db] [--quiet]
                              [--impl-command "PROGRAM ARGS" | --impl-assembly PATH [--impl-type NAME]]
          kmm-conformance rules [--markdown]
          kmm-conformance profiles

          --profile    x86-32, linux-2.4, 64-bit-8k, linux-6 (default: all)
          --memory     RAM sizes such as 64M,512M,1G,2G (default: all four)
          --seed       run seed; a failure prints the command that replays it (default: 1)
          --sequences  generated sequences per family, profile and memory size (default: 100)
          --max-steps  longest generated sequence (default: 60)
          --family     only these families (pages, heap)
          --rule       only report these rule IDs
          --replay     as --seed, and print a ready-to-paste xunit test under each failure
          --junit      also write JUnit XML (one testsuite per profile) to PATH
          --json       also write the result as JSON to PATH
          --html       also write a self-contained HTML report to PATH
          --db         failing-seed database: saved failures are re-run first, fixed ones
                       dropped (default: .kmm-conformance/failures.json)
          --no-db      neither read nor write the failing-seed database
          --quiet      no progress display on stderr
          --impl-command   judge a program speaking docs/protocol.md on stdin/stdout
          --impl-assembly  judge a .NET assembly's public IImplementationFactory
          --impl-type      which factory type, when the assembly has several
          (default: the reference implementation)
        """;

    public static int Main(string[] args)
    {
        try
        {
            return args.FirstOrDefault() switch
            {
                "run" => Run(args[1..]),
                "rules" => Rules(args[1..]),
                "profiles" => ListProfiles(),
                _ => UsageError(args.Length == 0 ? "a command is required" : $"unknown command '{args[0]}'"),
            };
        }
        catch (ArgumentException e) { return UsageError(e.Message); }
        catch (KeyNotFoundException e) { return UsageError(e.Message); }
    }

    private static int UsageError(string message)
    {
        Console.Error.WriteLine($"kmm-conformance: {message}");
        Console.Error.WriteLine(Usage);
        return 2;
    }

    private static int Run(string[] args)
    {
        var profiles = new List<Profile>();
        var memory = new List<ulong>();
        var families = new HashSet<string>();
        var rules = new HashSet<string>();
        var settings = new RunSettings();
        ulong? seed = null, replay = null;
        string? junit = null, json = null, html = null, db = FailureDatabase.DefaultPath;
        bool quiet = false;
        string? implCommand = null, implAssembly = null, implType = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--profile": profiles.Add(Profiles.Get(Value())); break;
                case "--memory": memory.AddRange(Value().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(ParseSize)); break;
                case "--seed": seed = Seed(Value(), "--seed"); break;
                case "--replay": replay = Seed(Value(), "--replay"); break;
                case "--junit": junit = OutputPath(Value(), "--junit"); break;
                case "--json": json = OutputPath(Value(), "--json"); break;
                case "--html": html = OutputPath(Value(), "--html"); break;
                case "--db": db = OutputPath(Value(), "--db"); break;
                case "--no-db": db = null; break;
                case "--quiet": quiet = true; break;
                case "--impl-command": implCommand = Value(); break;
                case "--impl-assembly": implAssembly = Value(); break;
                case "--impl-type": implType = Value(); break;
                case "--sequences": settings = settings with { Sequences = PositiveInt(Value(), "--sequences") }; break;
                case "--max-steps": settings = settings with { MaxSteps = PositiveInt(Value(), "--max-steps") }; break;
                case "--family": families.Add(Value()); break;
                case "--rule":
                    var id = Value();
                    if (!RuleCatalogue.Contains(id)) throw new ArgumentException($"no rule '{id}' in the catalogue");
                    rules.Add(id);
                    break;
                default: throw new ArgumentException($"unknown option '{args[i]}'");
            }
        }
        if (seed is not null && replay is not null && seed != replay)
            throw new ArgumentException($"--seed {seed} and --replay {replay} disagree; --replay is --seed plus an xunit test per failure");
        settings = settings with { Seed = replay ?? seed ?? settings.Seed };
        var known = SuiteRunner.Families.Select(f => f.Name).ToHashSet();
        foreach (var f in families.Where(f => !known.Contains(f)))
            throw new ArgumentException($"unknown family '{f}'; known: {string.Join(", ", known)}");

        if (implCommand is not null && implAssembly is not null)
            throw new ArgumentException("--impl-command and --impl-assembly exclude each other");
        IImplementationFactory factory =
            implCommand is not null ? new ProcessFactory(implCommand, new ProcessFactoryOptions())
            : implAssembly is not null ? AssemblyFactory.Load(implAssembly, implType)
            : new ReferenceFactory();
        string implArguments =
            implCommand is not null ? $"--impl-command {Quote(implCommand)}"
            : implAssembly is not null ? $"--impl-assembly {Quote(implAssembly)}{(implType is null ? "" : $" --impl-type {implType}")}"
            : "";
        try
        {
            return RunWith(factory, implArguments, profiles, memory, families, rules, settings, replay, junit, json, html, db, quiet);
        }
        finally
        {
            (factory as IDisposable)?.Dispose(); // stops an out-of-process implementation
        }
    }

    private static string Quote(string s) => s.Contains(' ') || s.Contains('"') ? $"\"{s.Replace("\"", "\\\"")}\"" : s;

    private static int RunWith(IImplementationFactory factory, string implArguments, List<Profile> profiles, List<ulong> memory,
        HashSet<string> families, HashSet<string> rules, RunSettings settings, ulong? replay, string? junit, string? json, string? html,
        string? db, bool quiet)
    {
        var database = db is null ? null : FailureDatabase.Load(db);
        if (database?.Warning is { } warning) Console.Error.WriteLine($"kmm-conformance: {warning}");
        using var progress = quiet ? null : new ProgressDisplay(Console.Error, interactive: !Console.IsErrorRedirected);
        var options = new SuiteOptions
        {
            Profiles = profiles.Count > 0 ? profiles : Profiles.All,
            MemorySizes = memory.Count > 0 ? memory : Profiles.StandardMemorySizes,
            Families = families,
            Rules = rules,
            Settings = settings,
            OnProgress = progress is null ? null : progress.Report,
            Reruns = database?.RerunsFor(factory.Name) ?? [],
        };
        var result = SuiteRunner.Run(factory, options) with { ImplementationArguments = implArguments };
        progress?.Finish();

        var reportOptions = new ReportOptions
        {
            // Printed tests rebuild the judged factory (FactoryCode.For): the reference, the --impl-assembly type, or a ProcessFactory.
            XunitSnippets = replay is not null,
            GeneratedAt = DateTimeOffset.UtcNow,
        };
        Console.Write(ConsoleReport.Render(result, reportOptions));
        int status = result.Passed ? 0 : 1;
        try
        {
            if (junit is not null) JUnitReport.Write(result, junit, reportOptions);
            if (json is not null) JsonReport.Write(result, json, reportOptions);
            if (html is not null) HtmlReport.Write(result, html, reportOptions);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"kmm-conformance: could not write a report: {e.Message}");
            status = 2;
        }
        if (database is not null)
        {
            var change = database.Record(result);
            try
            {
                if (change.Changed) database.Save();
                if (!quiet && change.Added + change.Removed > 0)
                {
                    static string Properties(int n) => n == 1 ? "1 property" : $"{n} properties";
                    var parts = new List<string>();
                    if (change.Added > 0) parts.Add($"{Properties(change.Added)} that failed saved");
                    if (change.Removed > 0) parts.Add($"{Properties(change.Removed)} that pass now removed");
                    Console.Error.WriteLine($"failure database {database.Path}: {string.Join(", ", parts)}; {Properties(database.Entries.Count)} to re-run first next time (--no-db to skip)");
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"kmm-conformance: could not save the failure database {database.Path}: {e.Message}");
            }
        }
        return status;
    }

    private static ulong Seed(string s, string option) =>
        ulong.TryParse(s, out ulong n) ? n : throw new ArgumentException($"{option} takes a whole number from 0 to {ulong.MaxValue}, not '{s}'");

    private static string OutputPath(string s, string option)
    {
        if (string.IsNullOrWhiteSpace(s) || s.StartsWith("--")) throw new ArgumentException($"{option} needs a file path, not '{s}'");
        try { _ = Path.GetFullPath(s); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException) { throw new ArgumentException($"{option}: not a usable path '{s}'"); }
        if (Directory.Exists(s)) throw new ArgumentException($"{option} needs a file path; '{s}' is a directory");
        return s;
    }

    private static int Rules(string[] args)
    {
        if (args.Contains("--markdown"))
        {
            Console.Write(KernelMm.Conformance.Catalogue.RulesDocument.Render());
            return 0;
        }
        foreach (var rule in RuleCatalogue.All)
        {
            Console.WriteLine($"{rule.Id,-8} {rule.Status,-10} {rule.Statement}");
            Console.WriteLine($"{"",-19} source: {rule.Source}");
            if (rule.Decision is not null) Console.WriteLine($"{"",-19} decision: {rule.Decision}");
        }
        var byStatus = RuleCatalogue.All.GroupBy(r => r.Status).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}");
        Console.WriteLine($"{RuleCatalogue.All.Count} rules: {string.Join(", ", byStatus)}");
        return 0;
    }

    private static int ListProfiles()
    {
        foreach (var p in Profiles.All)
            Console.WriteLine($"{p.Name,-10} PAGE_SIZE {p.PageSize}, PAGE_OFFSET 0x{p.PageOffset:x}, DMA < {Profile.FormatSize(p.DmaLimit)}, " +
                              $"HIGHMEM {(p.HighmemStart is { } h ? $">= {Profile.FormatSize(h)}" : "none")}, max order {p.MaxOrder}, " +
                              $"kmalloc max {Profile.FormatSize((ulong)p.KmallocMaxSize)}\n{"",-11}source: {p.Source}");
        return 0;
    }


    private static int PositiveInt(string s, string option) =>
        int.TryParse(s, out int n) && n > 0 ? n : throw new ArgumentException($"{option} takes a positive whole number, not '{s}'");

    private static ulong ParseSize(string s)
    {
        s = s.Trim().ToUpperInvariant();
        ulong unit = s.EndsWith('G') ? 1UL << 30 : s.EndsWith('M') ? 1UL << 20 : s.EndsWith('K') ? 1UL << 10 : 1;
        string digits = unit == 1 ? s : s[..^1];
        return ulong.TryParse(digits, out ulong n) && n > 0 ? n * unit : throw new ArgumentException($"not a memory size: '{s}'");
    }
}

/// <summary>
/// The live progress line on stderr (<see cref="ConsoleReport.ProgressLine"/>): properties done of
/// total, family, profile/RAM, and the run's totals so far in the summary line's units (sequences,
/// checked operations, failed rules counted rule x profile), elapsed time. On a terminal one line is redrawn in place with carriage returns
/// (ticking every half second while a long property runs) and a failing property leaves a
/// permanent line; redirected, it writes one plain line per finished property.
/// </summary>
internal sealed class ProgressDisplay : IDisposable
{
    private readonly TextWriter _out;
    private readonly bool _interactive;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _lock = new();
    private readonly Timer? _timer;
    private SuiteProgress? _last;
    private int _width;
    private int _failures;
    private bool _finished;

    public ProgressDisplay(TextWriter output, bool interactive)
    {
        _out = output;
        _interactive = interactive;
        if (interactive) _timer = new Timer(_ => Tick(), null, 500, 500);
    }

    public void Report(SuiteProgress p)
    {
        lock (_lock)
        {
            if (_finished) return;
            _last = p;
            bool newFailures = p.Finished && p.Failures > _failures;
            string what = $"{p.Family} on {p.ProfileLabel}{(p.Rerun ? " (saved failure)" : "")}";
            if (!_interactive)
            {
                if (p.Finished)
                    _out.WriteLine($"  {ConsoleReport.ProgressLine(p, _clock.Elapsed)}");
            }
            else
            {
                if (newFailures) { Clear(); _out.WriteLine($"  ! {what}: {p.Failures - _failures} more failed (rule x profile)"); }
                Draw();
            }
            if (p.Finished) _failures = p.Failures;
        }
    }

    public void Finish()
    {
        lock (_lock)
        {
            if (_finished) return;
            _finished = true;
            _timer?.Dispose();
            if (_interactive) Clear();
            _out.Flush();
        }
    }

    public void Dispose() => Finish();

    private void Tick()
    {
        lock (_lock) { if (!_finished && _last is not null) Draw(); }
    }

    private void Draw()
    {
        var p = _last!;
        string line = ConsoleReport.ProgressLine(p, _clock.Elapsed);
        int max = Math.Max(20, ConsoleWidth() - 1);
        if (line.Length > max) line = line[..(max - 1)] + "…";
        _out.Write("\r" + line.PadRight(_width));
        _width = line.Length;
        _out.Flush();
    }

    private void Clear()
    {
        if (_width == 0) return;
        _out.Write("\r" + new string(' ', _width) + "\r");
        _width = 0;
    }

    private static int ConsoleWidth()
    {
        try { return Console.WindowWidth > 0 ? Console.WindowWidth : 100; }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException or InvalidOperationException) { return 100; }
    }
}
