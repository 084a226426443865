using System.CommandLine;
using System.CommandLine.Parsing;

namespace KernelMm.Conformance.Cli.Options;

/// <summary>
/// Builds System.CommandLine options whose values go through <see cref="Values"/>: a bad value is a
/// parse error (exit code 2, before any work), and an option never takes the next option as its
/// value ("--profile --no-db" says that --profile needs a value).
/// </summary>
public static class OptionFactory
{
    /// <summary>An option given at most once, with one value.</summary>
    public static Option<T> Single<T>(string name, string description, string helpName, Func<string, string, Values.Parsed<T>> parse, Func<T>? defaultValue = null)
    {
        var option = new Option<T>(name) { Description = description, HelpName = helpName, Arity = ArgumentArity.ExactlyOne };
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue();
        option.CustomParser = result =>
        {
            if (CheckTokens(result, name) is not { } tokens) return default;
            if (tokens.Count != 1) { result.AddError($"{name} takes one value; give it once"); return default; }
            var parsed = parse(tokens[0], name);
            if (parsed.Ok) return parsed.Value;
            result.AddError(parsed.Error!);
            return default;
        };
        return option;
    }

    /// <summary>An option that may be repeated, each value possibly a comma-separated list; all values are parsed together.</summary>
    public static Option<T> Repeated<T>(string name, string description, string helpName, Func<IReadOnlyList<string>, string, Values.Parsed<T>> parse)
    {
        var option = new Option<T>(name) { Description = description, HelpName = helpName, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false };
        option.CustomParser = result =>
        {
            if (CheckTokens(result, name) is not { } tokens) return default;
            var parsed = parse(tokens, name);
            if (parsed.Ok) return parsed.Value;
            result.AddError(parsed.Error!);
            return default;
        };
        return option;
    }

    /// <summary>A flag (true when given).</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>The values, or null after adding an error when one of them is an option (a missing value).</summary>
    private static List<string>? CheckTokens(ArgumentResult result, string name)
    {
        var tokens = result.Tokens.Select(t => t.Value).ToList();
        if (tokens.Count == 0) { result.AddError($"{name} needs a value"); return null; }
        var option = tokens.FirstOrDefault(t => t.StartsWith("--", StringComparison.Ordinal) || t is "-h" or "-?");
        if (option is not null)
        {
            result.AddError($"{name} needs a value, but the next word is the option '{Values.Show(option)}'");
            return null;
        }
        return tokens;
    }
}
