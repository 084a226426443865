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
          kmm-conformance run [--profile NAME]... [--memory SIZE[,SIZE...]] [--seed N]
                              [--sequences N] [--max-steps N] [--family NAME]... [--rule ID]...
          kmm-conformance rules [--markdown]
          kmm-conformance profiles

          --profile    x86-32, linux-2.4, 64-bit-8k (default: all)
          --memory     RAM sizes such as 64M,512M,1G,2G (default: all four)
          --seed       run seed; a failure prints the command that replays it (default: 1)
          --sequences  generated sequences per family, profile and memory size (default: 100)
          --max-steps  longest generated sequence (default: 60)
          --family     only these families (pages)
          --rule       only report these rule IDs
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
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--profile": profiles.Add(Profiles.Get(Value())); break;
                case "--memory": memory.AddRange(Value().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(ParseSize)); break;
                case "--seed": settings = settings with { Seed = ulong.Parse(Value()) }; break;
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
        var known = SuiteRunner.Families.Select(f => f.Name).ToHashSet();
        foreach (var f in families.Where(f => !known.Contains(f)))
            throw new ArgumentException($"unknown family '{f}'; known: {string.Join(", ", known)}");

        var options = new SuiteOptions
        {
            Profiles = profiles.Count > 0 ? profiles : Profiles.All,
            MemorySizes = memory.Count > 0 ? memory : Profiles.StandardMemorySizes,
            Families = families,
            Rules = rules,
            Settings = settings,
            Progress = note => Console.Error.WriteLine($"  .. {note}"),
        };
        var result = SuiteRunner.Run(new ReferenceFactory(), options);
        Console.Write(ConsoleReport.Render(result));
        return result.Passed ? 0 : 1;
    }

    private static int Rules(string[] args)
    {
        bool markdown = args.Contains("--markdown");
        if (markdown) Console.WriteLine("| ID | status | statement | source | check | decision |\n|---|---|---|---|---|---|");
        foreach (var rule in RuleCatalogue.All)
        {
            if (markdown)
                Console.WriteLine($"| {rule.Id} | {rule.Status} | {Cell(rule.Statement)} | {Cell(rule.Source)} | {Cell(rule.Check)} | {Cell(rule.Decision ?? "")} |");
            else
            {
                Console.WriteLine($"{rule.Id,-8} {rule.Status,-10} {rule.Statement}");
                Console.WriteLine($"{"",-19} source: {rule.Source}");
                if (rule.Decision is not null) Console.WriteLine($"{"",-19} decision: {rule.Decision}");
            }
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

    private static string Cell(string s) => s.Replace("|", "\\|").Replace("\n", " ");

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
