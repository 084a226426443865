using FsCheck;
using FsCheck.Fluent;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Mutation;

/// <summary>
/// The conformance suite as a mutation-testing oracle for the reference: the family's own generated
/// sequences (fixed seed, fixed count) replayed one by one through every check, stopping at the first
/// violation. Unlike <see cref="SuiteRunner"/> it never shrinks and never masks-and-reruns, so a mutant
/// that breaks a rule is killed in the time of one sequence instead of a shrink, and a mutant that
/// breaks nothing costs exactly the fixed campaign: the same sequences every run, so no mutant flips
/// between killed and survived from one run to the next (docs/mutation.md).
/// </summary>
internal static class MutationCampaign
{
    private const ulong Gamma = 0x9E3779B97F4A7C15UL; // odd, as SplitMix requires

    /// <summary>Runs <paramref name="sequences"/> sequences of family <paramref name="family"/> on the reference; throws naming the first broken rule.</summary>
    public static void Run(string family, Profile profile, ulong memory, ulong seed, int sequences, int maxSteps)
    {
        var f = SuiteRunner.Families.Single(x => x.Name == family);
        switch (f)
        {
            case ConformanceFamily<Conformance.Families.Pages.PageOp> pages: Run(pages, profile, memory, seed, sequences, maxSteps); break;
            case ConformanceFamily<Conformance.Families.Heap.HeapOp> heap: Run(heap, profile, memory, seed, sequences, maxSteps); break;
            case ConformanceFamily<Conformance.Families.Vm.VmOp> vm: Run(vm, profile, memory, seed, sequences, maxSteps); break;
            case ConformanceFamily<Conformance.Families.User.UserOp> user: Run(user, profile, memory, seed, sequences, maxSteps); break;
            default: throw new ArgumentException($"family '{family}' has no sequential campaign", nameof(family));
        }
    }

    private static void Run<TOp>(ConformanceFamily<TOp> family, Profile profile, ulong memory, ulong seed, int sequences, int maxSteps)
        where TOp : notnull
    {
        var sized = profile.WithMemory(memory);
        var factory = new ReferenceFactory();
        SequenceOutcome? broken = null;
        int ran = 0;
        var property = Prop.ForAll(Arb.From(family.Generator(sized)), (TOp[] ops) =>
        {
            if (broken is not null) return true; // fail fast: the rest are generated, not run
            var outcome = family.Replay(factory, sized, ops.Cast<object>().ToList());
            ran++;
            if (!outcome.Held) broken = outcome;
            return true; // never fails inside FsCheck, so nothing is shrunk
        });
        Check.One(Config.Quick.WithMaxTest(sequences).WithEndSize(maxSteps).WithQuietOnSuccess(true).WithReplay(seed, Gamma), property);
        Assert.True(broken is null, broken is null ? "" :
            $"{broken.RuleId} broken on {family.Name} {sized.Name}/{Profile.FormatSize(memory)} (seed {seed}, sequence {ran}): {broken.Message}\n" +
            string.Join("\n", broken.Trace.TakeLast(8).Select(l => "    " + l)));
        Assert.Equal(sequences, ran);
    }
}
