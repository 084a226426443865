using KernelMm.Conformance.Checking;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Parallel;

/// <summary>
/// Re-runs one parallel program, as a printed repro does: races show in some runs only, so it runs the
/// program up to <c>runs</c> times on fresh machines and returns the first failure ("RULE: message"),
/// or null when every run passed.
/// </summary>
public static class ParallelReplay
{
    public static string? FirstFailure<TOp>(ParallelFamily<TOp> family, IImplementationFactory factory, Profile profile, ParallelProgram<TOp> program, int runs = 200)
        where TOp : notnull
    {
        using var cpus = new CpuPool();
        for (int r = 0; r < runs && !cpus.Spent; r++)
        {
            using var mm = factory.Create(profile) ?? throw new InvalidOperationException($"{factory.Name} refused {profile.Label}");
            RuleViolation? v;
            try { v = family.Execute(mm, program, cpus, new CheckScope(), explain: false, ParallelPropertyRunner.RunTimeout).Violation; }
            catch (RuleViolation e) { v = e; }
            if (v is not null) return $"{v.RuleId}: {v.Detail} (run {r + 1} of {runs})";
        }
        return null;
    }
}
