using System.CommandLine;
using KernelMm.Conformance.Catalogue;
using KernelMm.Conformance.Cli.Options;
using KernelMm.Spec.Rules;

namespace KernelMm.Conformance.Cli.Commands;

/// <summary><c>rules</c>: the rule catalogue with sources and decisions; <c>--markdown</c> for docs/rules.md.</summary>
public sealed class RulesCommand : ICliCommand
{
    public Option<bool> Markdown { get; } = OptionFactory.Flag("--markdown", "Print the catalogue as the Markdown document docs/rules.md.");

    public Command Build()
    {
        var command = new Command("rules", "List the rule catalogue: ID, status, statement, source and decision of every rule.") { Markdown };
        command.SetAction(parse => KmmConformance.Guard(parse, () =>
        {
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(Markdown))
            {
                output.Write(RulesDocument.Render());
                return ExitCodes.Passed;
            }
            foreach (var rule in RuleCatalogue.All)
            {
                output.WriteLine($"{rule.Id,-8} {rule.Status,-10} {rule.Statement}");
                output.WriteLine($"{"",-19} source: {rule.Source}");
                if (rule.Decision is not null) output.WriteLine($"{"",-19} decision: {rule.Decision}");
            }
            var byStatus = RuleCatalogue.All.GroupBy(r => r.Status).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}");
            output.WriteLine($"{RuleCatalogue.All.Count} rules: {string.Join(", ", byStatus)}");
            return ExitCodes.Passed;
        }));
        return command;
    }
}
