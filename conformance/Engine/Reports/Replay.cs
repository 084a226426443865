using KernelMm.Conformance.Running;

namespace KernelMm.Conformance.Reports;

/// <summary>
/// The command that replays a failure: the one place every report takes it from. It names the
/// profile, RAM size and family of the failing property and the settings it ran with (a saved
/// failure re-run from the failure database keeps its own seed), so it regenerates exactly the
/// failing sequence and shrinks it again.
/// </summary>
public static class Replay
{
    public const string DefaultPrefix = "dotnet run --project conformance/Cli --";

    /// <summary>The settings the property that found <paramref name="ce"/> ran with.</summary>
    public static RunSettings SettingsFor(SuiteResult result, Counterexample ce) =>
        result.Properties.FirstOrDefault(p => p.Failures.Any(f => ReferenceEquals(f, ce)))?.Key.Settings
        ?? result.Properties.FirstOrDefault(p => p.Failures.Any(f => f.RuleId == ce.RuleId && f.Seed == ce.Seed && f.Family == ce.Family && f.ProfileLabel == ce.ProfileLabel))?.Key.Settings
        ?? result.Settings;

    /// <summary>The CLI arguments, without the command: <c>run --profile x86-32 --memory 512M --replay 1 ...</c>.</summary>
    public static string Arguments(SuiteResult result, Counterexample ce)
    {
        var s = SettingsFor(result, ce);
        var (name, memory) = ReportText.SplitLabel(ce.ProfileLabel);
        string impl = result.ImplementationArguments.Length > 0 ? $" {result.ImplementationArguments}" : "";
        return $"run{impl} --profile {name}{(memory.Length > 0 ? $" --memory {memory}" : "")} --replay {s.Seed} --sequences {s.Sequences} --max-steps {s.MaxSteps} --family {ce.Family}";
    }

    public static string Command(SuiteResult result, Counterexample ce, string prefix = DefaultPrefix) =>
        $"{prefix} {Arguments(result, ce)}";
}
