using KernelMm.Conformance.Families.Pages;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Profiles;
using KernelMm.Spec.Rules;

namespace KernelMm.Tests.Reports;

/// <summary>
/// Results to render: a real run of the suite on the reference (one profile, one RAM size, few
/// sequences; run once and shared), and hand-built results holding every outcome, including a
/// failure whose message needs escaping.
/// </summary>
internal static class ReportFixtures
{
    /// <summary>A message with everything HTML and XML must escape.</summary>
    public const string NastyMessage = "free_pages(p2, 3) of an order-2 block <was accepted> & \"quoted\" 'single' <script>alert(1)</script>";

    private static readonly Lazy<SuiteResult> Real = new(() => SuiteRunner.Run(new ReferenceFactory(), new SuiteOptions
    {
        Profiles = [Profiles.X86_32],
        MemorySizes = [64UL << 20],
        Families = new HashSet<string> { "pages" },
        Settings = new RunSettings { Sequences = 12, MaxSteps = 25 },
    }));

    public static SuiteResult RealRun => Real.Value;

    /// <summary>The fixture's steps: what the trace below shows.</summary>
    public static readonly PageOp[] Ops =
    [
        new(PageOpKind.GetFreePages, Order: 2),
        new(PageOpKind.Write, Arg: 7),
        new(PageOpKind.FreeWrongOrder, Arg: 1),
    ];

    public static Counterexample Counterexample(string rule = "PAGE-4", string label = "x86-32/512M", ulong seed = 0x1234_5678_9abc_def0UL, string? message = null) => new()
    {
        Ops = Ops,
        Steps = Ops.Select(op => CSharpLiteral.Of(op, typeof(PageOp))).ToList(),
        StepType = nameof(PageOp),
        StepNamespaces = ["KernelMm.Conformance.Families.Pages", "KernelMm.Spec.Contract"],
        RuleId = rule,
        Message = message ?? NastyMessage,
        ProfileLabel = label,
        Family = "pages",
        Seed = seed,
        OriginalSteps = 37,
        ShrunkSteps = 4,
        Trace =
        [
            $"boot {label}: free pages DMA 4096, Normal 126976",
            "p1 = __get_free_pages(GFP_KERNEL, 2) -> 0xc0400000",
            "write 16 bytes to p1+0x10 (0xc0400010) -> no error",
            "free_pages(p1, 3) of an order-2 block -> no error",
        ],
        CSharp =
        [
            $"// boot {label}",
            "var p1 = pages.GetFreePages(Gfp.Kernel, 2);",
            "mem.Write(p1 + 0x10, Bytes(7, 16));",
            "Assert.Throws<KernelBugException>(() => pages.FreePages(p1, 3));",
        ],
    };

    /// <summary>A blocked rule's observation: PAGE-8's check failed after PAGE-4 had failed.</summary>
    public static Counterexample BlockedObservation() => Counterexample(rule: "PAGE-8", message: "with everything freed and caches drained, zone Normal has 13 free order-10 blocks; it had 15 at boot") with { BlockedBy = "PAGE-4" };

    /// <summary>
    /// Two profiles; PAGE-4 fails on x86-32 (with <see cref="NastyMessage"/>), PAGE-8 is blocked by it
    /// there, PAGE-3 is unexercised on linux-2.4, ADDR-2 is n/a on linux-2.4, SWAP-2 pending on linux-2.4 (and every pending rule), the rest pass.
    /// </summary>
    /// <summary>The check text of the hand-built pending row (SWAP-2 on linux-2.4).</summary>
    public const string PendingCheck = "Pending: planned check: kernel memory is never swapped out.";

    public static SuiteResult HandBuilt(Counterexample? failure = null, IReadOnlyList<PropertyRun>? properties = null)
    {
        var ce = failure ?? Counterexample();
        var rows = new List<RuleResult>();
        foreach (var profile in new[] { "x86-32", "linux-2.4" })
            foreach (var rule in RuleCatalogue.All)
            {
                rows.Add((rule.Id, profile) switch
                {
                    _ when rule.Status != RuleStatus.Encoded => new RuleResult(rule, profile, RuleOutcome.Pending, 0, null, rule.Check),
                    ("PAGE-4", "x86-32") => new RuleResult(rule, profile, RuleOutcome.Failed, 120, ce, null),
                    ("PAGE-8", "x86-32") => new RuleResult(rule, profile, RuleOutcome.Blocked, 40, BlockedObservation(), "blocked by PAGE-4: its check failed only after PAGE-4 had failed in the same sequence") { BlockedBy = "PAGE-4" },
                    ("PAGE-3", "linux-2.4") => new RuleResult(rule, profile, RuleOutcome.NotExercised, 0, null, "no generated sequence reached this rule's check"),
                    ("ADDR-2", "linux-2.4") => new RuleResult(rule, profile, RuleOutcome.NotApplicable, 0, null, "not declared: Highmem <optional>"),
                    // Every catalogue rule is encoded today: a pending row is made from one, as a newly added rule would look.
                    ("SWAP-2", "linux-2.4") => new RuleResult(rule with { Status = RuleStatus.Pending, Check = PendingCheck }, profile, RuleOutcome.Pending, 0, null, PendingCheck),
                    _ => new RuleResult(rule, profile, RuleOutcome.Passed, 1234, null, null),
                });
            }
        return new SuiteResult
        {
            Implementation = "broken <impl>",
            Settings = new RunSettings { Seed = 7, Sequences = 40, MaxSteps = 30 },
            Profiles = ["x86-32", "linux-2.4"],
            MemorySizes = [64UL << 20, 512UL << 20],
            Results = rows,
            Operations = 123_456,
            Sequences = 320,
            Elapsed = TimeSpan.FromSeconds(2.5),
            CpuTime = TimeSpan.FromSeconds(2),
            Properties = properties ?? [],
        };
    }

    public static int Count(SuiteResult result, RuleOutcome outcome, string? profile = null) =>
        result.Results.Count(r => r.Outcome == outcome && (profile is null || r.Profile == profile));
}
