using System.CommandLine;
using System.Text.Json;
using KernelMm.Conformance.OutOfProcess;
using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Cli.Options;

/// <summary>
/// The options that choose the implementation to judge (the reference, a program speaking the
/// protocol, or a .NET assembly), its label and its per-operation timeout. One group, so that every
/// command that judges an implementation (run today; a batch grader later) offers the same options.
/// </summary>
public sealed class ImplementationOptions
{
    public static readonly TimeSpan MinOperationTimeout = TimeSpan.FromMilliseconds(10);
    public static readonly TimeSpan MaxOperationTimeout = TimeSpan.FromMinutes(10);

    public Option<string?> Command { get; } = OptionFactory.Single<string?>("--impl-command",
        "Judge a program that speaks the protocol of docs/protocol.md on stdin/stdout, e.g. \"./buddy --verbose\" (quoted as one argument).",
        "PROGRAM ARGS", (t, o) => string.IsNullOrWhiteSpace(t) ? Values.Parsed<string?>.Fail($"{o} needs a program") : t);

    public Option<string?> Assembly { get; } = OptionFactory.Single<string?>("--impl-assembly",
        "Judge a .NET assembly's public IImplementationFactory.", "PATH",
        (t, o) => string.IsNullOrWhiteSpace(t) ? Values.Parsed<string?>.Fail($"{o} needs a path") : t);

    public Option<string?> Type { get; } = OptionFactory.Single<string?>("--impl-type",
        "Which factory type of --impl-assembly, when it has several (full or simple name).", "NAME",
        (t, o) => string.IsNullOrWhiteSpace(t) ? Values.Parsed<string?>.Fail($"{o} needs a type name") : t);

    public Option<string?> Name { get; } = OptionFactory.Single<string?>("--name",
        "The implementation's label in reports and in the failure database (default: the program's file name, or 'reference').",
        "LABEL", (t, o) => Values.Label(t, o) is var p && p.Ok ? p.Value : Values.Parsed<string?>.Fail(p.Error!));

    public Option<TimeSpan?> OperationTimeout { get; } = OptionFactory.Single<TimeSpan?>("--operation-timeout",
        $"Longest wait for a program's answer to one operation, e.g. 500ms, 2s, 1m (default: 2s; {Values.Format(MinOperationTimeout)} to {Values.Format(MaxOperationTimeout)}). With --impl-command only.",
        "DURATION", (t, o) => Values.Duration(t, o, MinOperationTimeout, MaxOperationTimeout) is var p && p.Ok ? p.Value : Values.Parsed<TimeSpan?>.Fail(p.Error!));

    public IEnumerable<Option> All => [Command, Assembly, Type, Name, OperationTimeout];

    /// <summary>The choice the parsed command line makes, checked (the program or assembly exists), or the reasons it cannot be used.</summary>
    public (ImplementationChoice? Choice, List<string> Errors) Read(ParseResult parse)
    {
        var errors = new List<string>();
        string? command = parse.GetValue(Command), assembly = parse.GetValue(Assembly), type = parse.GetValue(Type);
        var timeout = parse.GetValue(OperationTimeout);
        if (command is not null && assembly is not null) errors.Add("--impl-command and --impl-assembly exclude each other: judge one implementation per run");
        if (type is not null && assembly is null) errors.Add("--impl-type picks a factory of --impl-assembly, which is missing");
        if (timeout is not null && command is null) errors.Add("--operation-timeout applies to a program (--impl-command) only");

        IReadOnlyList<string> words = [];
        string? program = null;
        if (command is not null)
        {
            try { words = CommandLineWords.Split(command); }
            catch (ArgumentException e) { errors.Add($"--impl-command: {e.Message}"); }
            if (words.Count == 0 && errors.Count == 0) errors.Add("--impl-command: the command is empty");
            if (words.Count > 0)
            {
                program = ResolveProgram(words[0], out var why);
                if (program is null) errors.Add($"--impl-command: {why}");
            }
        }
        string? assemblyPath = null;
        if (assembly is not null)
        {
            try { assemblyPath = Path.GetFullPath(assembly); }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException) { errors.Add($"--impl-assembly: '{Values.Show(assembly)}' is not a usable path"); }
            if (assemblyPath is not null && !File.Exists(assemblyPath)) errors.Add($"--impl-assembly: '{Values.Show(assembly)}' does not exist");
        }
        if (errors.Count > 0) return (null, errors);
        return (new ImplementationChoice
        {
            CommandLine = command,
            CommandWords = words,
            Program = program,
            AssemblyPath = assemblyPath,
            AssemblyArgument = assembly,
            TypeName = type,
            Label = parse.GetValue(Name),
            OperationTimeout = timeout,
        }, errors);
    }

    /// <summary>The executable a command starts: a path (relative to the current folder) or a name on PATH; it must be an executable file.</summary>
    internal static string? ResolveProgram(string file, out string why)
    {
        why = "";
        string? found = null;
        if (file.Contains('/') || OperatingSystem.IsWindows())
        {
            try { found = Path.GetFullPath(file); }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException) { why = $"'{Values.Show(file)}' is not a usable path"; return null; }
            if (Directory.Exists(found)) { why = $"'{Values.Show(file)}' is a directory, not a program"; return null; }
            if (!File.Exists(found)) { why = $"the program '{Values.Show(file)}' does not exist"; return null; }
        }
        else
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            {
                string candidate = Path.Combine(dir, file);
                if (File.Exists(candidate)) { found = candidate; break; }
            }
            if (found is null) { why = $"the program '{Values.Show(file)}' was not found on PATH (write ./{Values.Show(file)} for one in this folder)"; return null; }
        }
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(found) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
        {
            why = $"'{Values.Show(file)}' is not executable (chmod +x {Values.Show(file)})";
            return null;
        }
        return found;
    }
}

/// <summary>The implementation a run judges, as the command line chose it; builds its factory, identity and replay arguments.</summary>
public sealed record ImplementationChoice
{
    public string? CommandLine { get; init; }
    public IReadOnlyList<string> CommandWords { get; init; } = [];
    /// <summary>The resolved executable of <see cref="CommandLine"/>.</summary>
    public string? Program { get; init; }
    public string? AssemblyPath { get; init; }
    /// <summary>--impl-assembly as given (for replay commands).</summary>
    public string? AssemblyArgument { get; init; }
    public string? TypeName { get; init; }
    /// <summary>--name, or null for the factory's own name.</summary>
    public string? Label { get; init; }
    public TimeSpan? OperationTimeout { get; init; }

    public bool IsReference => CommandLine is null && AssemblyPath is null;

    /// <summary>Builds the factory. Errors: <see cref="ArgumentException"/> when the program or assembly cannot be used (bad usage).</summary>
    public IImplementationFactory CreateFactory()
    {
        if (CommandLine is not null)
        {
            var options = new ProcessFactoryOptions { Name = Label };
            if (OperationTimeout is { } t) options = options with { OperationTimeout = t };
            return new ProcessFactory(CommandWords, options);
        }
        if (AssemblyPath is not null) return AssemblyFactory.Load(AssemblyPath, TypeName);
        return new ReferenceFactory();
    }

    /// <summary>The label in reports: --name, else the factory's name.</summary>
    public string LabelFor(IImplementationFactory factory) => Label ?? factory.Name;

    /// <summary>Who the failure database files this run's failures under: the label and a hash of the program (or assembly, or the reference build).</summary>
    public ImplementationIdentity Identity(IImplementationFactory factory)
    {
        string label = LabelFor(factory);
        if (CommandLine is not null)
        {
            // The executable and every argument that names a file (a script, a jar) are the program.
            var files = new List<string> { Program! };
            foreach (var word in CommandWords.Skip(1))
            {
                try { if (File.Exists(word)) files.Add(Path.GetFullPath(word)); }
                catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException) { }
            }
            return ImplementationIdentity.Of(label, string.Join(" ", [Program!, .. CommandWords.Skip(1)]), CommandWords.Skip(1), files);
        }
        string assembly = AssemblyPath ?? factory.GetType().Assembly.Location;
        string location = AssemblyPath is null ? assembly : $"{assembly}{(TypeName is null ? "" : $" {TypeName}")}";
        return ImplementationIdentity.Of(label, location, [factory.GetType().FullName ?? ""], [assembly]);
    }

    /// <summary>The arguments that choose this implementation again, for replay commands.</summary>
    public string ReplayArguments
    {
        get
        {
            var parts = new List<string>();
            if (CommandLine is not null) parts.Add($"--impl-command {Quote(CommandLine)}");
            if (AssemblyArgument is not null) parts.Add($"--impl-assembly {Quote(AssemblyArgument)}");
            if (TypeName is not null) parts.Add($"--impl-type {Quote(TypeName)}");
            if (Label is not null) parts.Add($"--name {Quote(Label)}");
            if (OperationTimeout is { } t) parts.Add($"--operation-timeout {Values.Format(t)}");
            return string.Join(" ", parts);
        }
    }

    /// <summary>The C# (expression, usings) that builds this implementation's factory in a pasted xunit test.</summary>
    public FactoryCode FactoryCode(IImplementationFactory factory)
    {
        if (CommandLine is not null && OperationTimeout is { } t)
            return new($"new ProcessFactory({CSharpLiteral.Quote(CommandLine)}, new ProcessFactoryOptions {{ OperationTimeout = TimeSpan.FromMilliseconds({t.TotalMilliseconds:0}) }})",
                ["System", typeof(ProcessFactory).Namespace!], Disposable: true);
        // A program by its command line, an assembly's factory by its type, else the reference.
        return Reports.FactoryCode.For(factory, factory.Name);
    }

    /// <summary>Quotes a word for a POSIX shell when it needs it.</summary>
    internal static string Quote(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";
}
