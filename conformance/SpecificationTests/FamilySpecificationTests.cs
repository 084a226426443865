using KernelMm.Conformance.Running;
using KernelMm.Conformance.Specification.Running;
using KernelMm.Conformance.Specification.Sdk;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Spec.Rules;
using Xunit;
using Xunit.Sdk;
using SpecProfiles = KernelMm.Spec.Profiles.Profiles;

namespace KernelMm.Conformance.Specification;

/// <summary>
/// What every family base shares: the one factory hook, the knobs, and the rule test.
/// Do not derive from this class directly: derive from a family base such as
/// <see cref="PageAllocatorSpecificationTests"/>.
/// </summary>
/// <remarks>
/// Each rule of the family is its own test, named by its rule ID ("KeepsRule(PAGE-4): free_pages
/// must receive ..."), with the traits <c>Rule</c> (the ID) and <c>RuleFamily</c>. The family's property
/// run is done once per test class, by the first rule test that runs; every rule test then reads
/// its rule's outcome from it: failed (with the shrunk counterexample), passed, or skipped with the
/// reason (the rule needs a capability the implementation does not declare, the implementation does
/// not take part in the family at all, or the rule is still pending in the catalogue).
/// <para><c>dotnet test --filter "Rule=PAGE-4"</c> judges only the rules selected: the run checks the
/// others masked (nothing reported or shrunk for them; a sequence in which one of them fails cannot
/// fail a selected rule, it blocks it). Rules listed in <see cref="KnownFailures"/> are reported
/// skipped while they fail, and fail the test once they pass.</para>
/// </remarks>
[TestCaseOrderer("KernelMm.Conformance.Specification.Sdk.RuleTestCaseOrderer", "KernelMm.Conformance.Specification.Tests")]
public abstract class FamilySpecificationTests
{
    /// <summary>
    /// The implementation under test. Called once per test class; the suite boots a fresh instance
    /// from it for every generated sequence. This is the only member you must override.
    /// </summary>
    protected abstract IImplementationFactory CreateFactory();

    /// <summary>
    /// How hard to look: seed, sequences per (profile, memory size), longest sequence. The default
    /// is the command line's (seed 1, 100 sequences of up to 60 steps). Lower it for a quick inner
    /// loop; a failure found with one setting is replayed by the same setting.
    /// </summary>
    protected virtual RunSettings Settings => new();

    /// <summary>
    /// The profiles to run. Default: every named profile (<c>KernelMm.Spec.Profiles.Profiles.All</c>).
    /// An implementation that does not support a profile returns null from
    /// <see cref="IImplementationFactory.Create"/>, and its rules are reported n/a there, so
    /// overriding this is for speed, not for support.
    /// </summary>
    protected virtual IEnumerable<Profile> Profiles => SpecProfiles.All;

    /// <summary>
    /// The physical memory sizes each profile is booted with. Default: 64 MiB, 512 MiB, 1 GiB,
    /// 2 GiB (an empty HIGHMEM, and the 896 MiB edge crossed). Each must be a multiple of the
    /// profile's max-order block.
    /// </summary>
    protected virtual IEnumerable<ulong> MemorySizes => SpecProfiles.StandardMemorySizes;

    /// <summary>
    /// Rules your implementation is known to break for now, each as <c>"RULE-ID: reason"</c> (for
    /// example <c>"PAGE-8: coalescing comes in lab 4"</c>). While a listed rule fails (or is blocked or
    /// not exercised) its test is reported skipped, with the reason and what failed; once it passes,
    /// its test fails and asks you to remove the entry (a strict expected failure), so the list never
    /// hides a fix or a regression. Entries naming rules of other families are allowed (a shared base
    /// class) and do nothing here; an entry naming no rule of the catalogue, or without a reason,
    /// fails every rule test of the class. Default: none.
    /// </summary>
    protected virtual IReadOnlySet<string> KnownFailures => new HashSet<string>();

    /// <summary>
    /// One rule of the family, judged from the family's run. The test cases are discovered from the
    /// family base's <see cref="SpecificationFamilyAttribute"/>, one per rule ID.
    /// </summary>
    [RuleTheory]
    public void KeepsRule(string ruleId)
    {
        var family = SpecificationFamily.Of(GetType())
            ?? throw new InvalidOperationException($"{GetType().Name} must derive from a family base such as {nameof(PageAllocatorSpecificationTests)}");
        var rule = RuleCatalogue.Get(ruleId);
        var known = Running.KnownFailures.Parse(KnownFailures);
        if (known.Problems.Count > 0)
            throw new RuleFailedException($"{GetType().Name}.KnownFailures cannot be used:\n  - {string.Join("\n  - ", known.Problems)}");
        var verdict = known.Apply(ruleId, family.StaticSkipReason(rule) is { } pending
            ? new RuleVerdict(VerdictKind.Skipped, pending)
            : FamilyRun.For(this, family).Judge(rule));
        switch (verdict.Kind)
        {
            case VerdictKind.Failed:
                throw new RuleFailedException(verdict.Message);
            case VerdictKind.Skipped:
                throw new SkipRuleException(verdict.Message);
            default:
                RuleNotes.Record(GetType(), ruleId, verdict.Message);
                break;
        }
    }

    /// <summary>Reads the hooks once, for the family run.</summary>
    internal RunRequest CreateRunRequest() =>
        new(CreateFactory(), Settings, Profiles.ToList(), MemorySizes.ToList(), GetType().FullName ?? GetType().Name,
            RuleSelection.For(GetType()), GetType());
}

/// <summary>A rule test failed: the message carries the rule, the shrunk counterexample and how to replay it.</summary>
public sealed class RuleFailedException(string message) : XunitException(message);
