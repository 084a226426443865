using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Spec.Rules;
using KernelMm.Tests.Suite;

namespace KernelMm.Tests.UserLive;

/// <summary>
/// Issue 10: the Linux kernel of this machine as a test subject and the tie-breaker of the
/// user-space rules. The user family runs against examples/live-linux (real processes, real
/// mmap/munmap/mprotect/fork): every rule the kernel can show must pass, the rest are n/a with the
/// capability they need. A rule Linux fails is a mistake in the spec, not in Linux.
/// </summary>
[Collection("LiveKernel")]
public class LiveKernelTests
{
    private const ulong MiB = 1UL << 20;

    [LiveKernelFact]
    public void The_user_family_passes_on_the_live_kernel_and_the_rules_it_cannot_show_are_not_applicable()
    {
        var result = SuiteRunner.Run(new LiveLinuxFactory(LiveLinuxProgram.Path), new SuiteOptions
        {
            Profiles = [Profiles.X86_64],
            MemorySizes = [512 * MiB],
            Families = new HashSet<string> { "user" },
            // Few sequences: every call is a round trip to a real process. KMM_LIVE_SEQUENCES=N runs a longer campaign.
            Settings = new RunSettings { Seed = SuiteRuns.Seed, Sequences = int.TryParse(Environment.GetEnvironmentVariable("KMM_LIVE_SEQUENCES"), out int n) && n > 0 ? n : 12, MaxSteps = 60 },
        });
        var user = result.Results.Where(r => SuiteRunner.Families.Single(f => f.Name == "user").RuleIds.Contains(r.Rule.Id)).ToList();

        var failed = user.Where(r => r.Outcome is RuleOutcome.Failed or RuleOutcome.NotExercised or RuleOutcome.Blocked).ToList();
        Assert.True(failed.Count == 0, "the live kernel breaks rules the suite encodes (a mistake in the spec, not in Linux):\n" + SuiteRuns.Explain(result));

        // Only what a user program can show is judged: mappings, faults, fork and copy-on-write, TASK_SIZE.
        var shown = user.Where(r => r.Outcome == RuleOutcome.Passed).Select(r => r.Rule.Id).ToHashSet();
        string[] mustShow = ["ADDR-4", "ADDR-5", "ADDR-6", "ADDR-7", "ADDR-9", "MMAP-1", "MMAP-2", "MMAP-3", "MMAP-4", "MMAP-5", "MMAP-6", "MMAP-7", "MMAP-8", "MMAP-9", "MMAP-10"];
        Assert.True(mustShow.All(shown.Contains), $"passed on the live kernel: [{string.Join(", ", shown.Order())}]; expected at least [{string.Join(", ", mustShow)}]\n{SuiteRuns.Explain(result)}");

        // Swap, driver mmap and the kernel's user copies need capabilities a user program cannot offer.
        foreach (var r in user.Where(r => r.Rule.Family is RuleFamily.SWAP or RuleFamily.DRV or RuleFamily.UACC))
        {
            Assert.Equal(RuleOutcome.NotApplicable, r.Outcome);
            Assert.StartsWith("not declared: ", r.Reason);
        }
    }
}
