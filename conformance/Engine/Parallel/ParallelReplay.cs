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
            catch (Exception e) { v = new RuleViolation(family.PrimaryRule, $"the implementation raised {e.GetType().Name} outside any documented error: {e.Message}"); }
            if (v is not null) return $"{v.RuleId}: {v.Detail} (run {r + 1} of {runs})";
        }
        return null;
    }

    /// <summary>
    /// Runs a family's stress (<see cref="ParallelFamily{TOp}.RunStress"/>) up to <paramref name="runs"/> times on fresh
    /// machines, each with the full budget; the first failure ("RULE: message"), or null when every run passed.
    /// </summary>
    public static string? StressFailure<TOp>(ParallelFamily<TOp> family, IImplementationFactory factory, Profile profile, ulong seed, int runs = 5)
        where TOp : notnull
    {
        using var cpus = new CpuPool();
        for (int r = 0; r < runs && !cpus.Spent; r++)
        {
            using var mm = factory.Create(profile) ?? throw new InvalidOperationException($"{factory.Name} refused {profile.Label}");
            RuleViolation? v;
            try { v = family.RunStress(mm, cpus, seed, new CheckScope(), ParallelPropertyRunner.StressBudget, ParallelPropertyRunner.RunTimeout)?.Violation; }
            catch (RuleViolation e) { v = e; }
            catch (Exception e) { v = new RuleViolation(family.PrimaryRule, $"the implementation raised {e.GetType().Name} outside any documented error during the stress: {e.Message}"); }
            if (v is not null) return $"{v.RuleId}: {v.Detail} (run {r + 1} of {runs})";
        }
        return null;
    }
}
