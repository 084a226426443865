using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Reflection;
using KernelMm.Conformance.Cli.Commands;

namespace KernelMm.Conformance.Cli;

/// <summary>The exit codes of kmm-conformance.</summary>
public static class ExitCodes
{
    /// <summary>Every applicable rule passed (or the command did what it was asked).</summary>
    public const int Passed = 0;
    /// <summary>A rule failed or was never exercised, or the implementation could not be judged at all.</summary>
    public const int Failed = 1;
    /// <summary>Bad usage: an unknown command or option, a bad value, an implementation or path that cannot be used, a report that cannot be written. Nothing was run (or, for a report, the run's result is still printed).</summary>
    public const int Usage = 2;
    /// <summary>The runner itself failed (a bug in kmm-conformance: please report it with the command line).</summary>
    public const int Internal = 3;
}

/// <summary>One subcommand: adding a command is one class and one line in <see cref="KmmConformance.Commands"/>.</summary>
public interface ICliCommand
{
    Command Build();
}

/// <summary>
/// kmm-conformance: runs the conformance suite (against the reference unless told otherwise) and
/// lists the rule catalogue and the profiles. Built on System.CommandLine: help per command
/// (--help, -h), --version, suggestions for mistyped commands and options, every value checked
/// before work starts. Exit codes: <see cref="ExitCodes"/>.
/// </summary>
public static class KmmConformance
{
    public const string Name = "kmm-conformance";

    /// <summary>The subcommands, in help order.</summary>
    public static IReadOnlyList<ICliCommand> Commands() => [new RunCommand(), new GradeCommand(), new MergeCommand(), new RulesCommand(), new ProfilesCommand()];

    private const string RootEpilog = """

        Examples:
          kmm-conformance run                                   the suite against the reference
          kmm-conformance run --impl-command ./buddy --name alice   judge a program speaking docs/protocol.md
          kmm-conformance run --impl-assembly My.dll --html report.html
          kmm-conformance run --profile x86-32 --memory 64M --rule PAGE-4 --replay 7
          kmm-conformance run --ktap - > results.ktap               KTAP for kernel CI (--tap for TAP harnesses)
          kmm-conformance run --shard 2/4 --json shard-2.json       one job of a CI matrix; then:
          kmm-conformance merge shard-*.json --junit junit.xml      the whole run's table and verdict
          kmm-conformance grade submissions/ --rubric rubric.json   a class: scoreboard.html, scores.csv
          kmm-conformance rules --markdown > rules.md

        Exit codes: 0 every applicable rule passed, 1 a rule failed or was not exercised,
        2 bad usage (nothing was run), 3 an internal error of kmm-conformance.
        """;

    public static RootCommand BuildRoot() => BuildRoot(Commands());

    private static RootCommand BuildRoot(IReadOnlyList<ICliCommand> commands)
    {
        var root = new RootCommand("Conformance suite for the Linux kernel memory-management API: judges an implementation (the reference, a program speaking the protocol, or a .NET assembly) rule by rule.");
        foreach (var command in commands) root.Subcommands.Add(command.Build());
        foreach (var help in root.Options.OfType<HelpOption>())
            if (help.Action is HelpAction action) help.Action = new HelpWithEpilog(action, RootEpilog);
        // This tool's own version, also when it is hosted by another program (a test host).
        foreach (var version in root.Options.OfType<VersionOption>()) version.Action = new PrintVersion();
        return root;
    }

    /// <summary>Parses only (no command runs): what tests and fuzzers feed garbage to.</summary>
    public static ParseResult Parse(IReadOnlyList<string> args) => BuildRoot().Parse(args, Parser);

    private static readonly ParserConfiguration Parser = new() { ResponseFileTokenReplacer = Options.ResponseFiles.TryReplace };

    /// <summary>
    /// Everything that is checked before work starts, without doing any: the parse, and for <c>run</c>
    /// the options against each other. <see cref="CommandLineCheck.UsageErrors"/> non-empty means exit
    /// code 2; otherwise <see cref="CommandLineCheck.Run"/> is the run that would start (null for the
    /// other commands, help and --version).
    /// </summary>
    public static CommandLineCheck Check(IReadOnlyList<string> args)
    {
        var run = new RunCommand();
        var parse = BuildRoot([run, new GradeCommand(), new MergeCommand(), new RulesCommand(), new ProfilesCommand()]).Parse(args, Parser);
        if (parse.Errors.Count > 0) return new CommandLineCheck(parse, parse.Errors.Select(e => e.Message).ToList(), null);
        // Help, --version or a directive instead of the command's own action; or another command.
        if (!ReferenceEquals(parse.Action, parse.CommandResult.Command.Action) || parse.CommandResult.Command.Name != "run")
            return new CommandLineCheck(parse, [], null);
        var (request, errors) = run.Read(parse);
        return new CommandLineCheck(parse, errors, request);
    }

    /// <summary>Runs the command line with the given output and error writers; returns the exit code.</summary>
    public static int Invoke(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        var parse = Parse(args);
        if (parse.Errors.Count == 0) return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        if (parse.Action is ParseErrorAction errorAction)
        {
            // The errors and "did you mean", all on stderr (stdout stays empty: nothing ran); the
            // whole help only when no command was given at all.
            errorAction.ShowTypoCorrections = true;
            errorAction.ShowHelp = parse.CommandResult.Command is RootCommand && args.Count == 0;
            try { parse.Invoke(new InvocationConfiguration { Output = error, Error = error, EnableDefaultExceptionHandler = false }); }
            catch (Exception e) when (e is not OutOfMemoryException) { error.WriteLine($"{Name}: {string.Join("; ", parse.Errors.Select(x => x.Message))}"); }
        }
        string command = parse.CommandResult.Command is RootCommand ? "" : $" {parse.CommandResult.Command.Name}";
        error.WriteLine($"See '{Name}{command} --help'.");
        return ExitCodes.Usage;
    }

    /// <summary>Usage errors found after parsing (options that do not go together): printed, exit code 2, nothing run.</summary>
    public static int UsageErrors(ParseResult parse, IEnumerable<string> errors)
    {
        var error = parse.InvocationConfiguration.Error;
        foreach (var e in errors) error.WriteLine($"{Name}: {e}");
        error.WriteLine($"See '{Name} {parse.CommandResult.Command.Name} --help'.");
        return ExitCodes.Usage;
    }

    /// <summary>
    /// Runs a command's work: a usage problem found late (an assembly that does not load) is exit
    /// code 2; anything else unexpected is reported in one paragraph with exit code 3, never as an
    /// unhandled exception.
    /// </summary>
    public static int Guard(ParseResult parse, Func<int> work)
    {
        var error = parse.InvocationConfiguration.Error;
        try
        {
            return work();
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"{Name}: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            error.WriteLine($"{Name}: internal error, please report it with the command line: {e}");
            return ExitCodes.Internal;
        }
    }

    /// <summary>The informational version of kmm-conformance (e.g. 0.1.0+commit).</summary>
    public static string Version =>
        typeof(KmmConformance).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(KmmConformance).Assembly.GetName().Version?.ToString() ?? "unknown";

    private sealed class PrintVersion : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(Version);
            return ExitCodes.Passed;
        }
    }

    /// <summary>The standard help followed by examples and exit codes.</summary>
    private sealed class HelpWithEpilog(HelpAction help, string epilog) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            int code = help.Invoke(parseResult);
            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.CommandResult.Command is RootCommand) output.WriteLine(epilog.TrimStart('\n'));
            else if (parseResult.CommandResult.Command.Name == "run") output.WriteLine(RunEpilog);
            return code;
        }
    }

    private const string RunEpilog = """
        Implementation (default: the reference):
          --impl-command "./buddy ARGS"   a program in any language speaking docs/protocol.md
          --impl-assembly Your.dll        a .NET assembly with a public IImplementationFactory
          --name LABEL                    its label in reports and in the failure database

        Exit codes: 0 every applicable rule passed, 1 a rule failed or was not exercised,
        2 bad usage (nothing was run), 3 an internal error of kmm-conformance.
        """;
}

/// <summary>What <see cref="KmmConformance.Check"/> found.</summary>
public sealed record CommandLineCheck(ParseResult Parse, IReadOnlyList<string> UsageErrors, RunRequest? Run);
