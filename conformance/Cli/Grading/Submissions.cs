using KernelMm.Conformance.Cli.Options;
using KernelMm.Conformance.OutOfProcess;

namespace KernelMm.Conformance.Cli.Grading;

/// <summary>One student's submission: a label and the implementation to judge (a program's command line, or a .NET assembly).</summary>
public sealed record Submission
{
    /// <summary>The student's label: their folder's name, or the manifest's first word.</summary>
    public required string Label { get; init; }
    /// <summary>The program's words, the program itself as an absolute path (or a name found on PATH).</summary>
    public IReadOnlyList<string> Command { get; init; } = [];
    /// <summary>An assembly with a public IImplementationFactory (absolute path), instead of a program.</summary>
    public string? Assembly { get; init; }
    /// <summary>Which factory type of <see cref="Assembly"/>, when it has several.</summary>
    public string? TypeName { get; init; }
    /// <summary>Where it was found, for messages ("manifest line 3", "folder alice").</summary>
    public required string Origin { get; init; }
    /// <summary>Why it cannot be run (no program in the folder, ...): it is listed on the scoreboard as rejected, with nothing earned.</summary>
    public string? Problem { get; init; }

    /// <summary>The command line as one string, quoted for a POSIX shell.</summary>
    public string CommandLine => string.Join(" ", Command.Select(ImplementationChoice.Quote));
}

/// <summary>
/// Finds the submissions of a class: a folder (one subfolder per student holding one program, or
/// one program per student at the top) or a manifest file (one line per student: a label, then the
/// command that starts their program, or the path of their .NET assembly). Paths are taken relative
/// to the folder or to the manifest's folder and made absolute, because every submission runs in a
/// working folder of its own.
/// </summary>
public static class Submissions
{
    /// <summary>Most submissions in one batch.</summary>
    public const int MaxSubmissions = 10_000;
    /// <summary>Largest manifest read.</summary>
    public const int MaxManifestBytes = 4 << 20;

    /// <summary>
    /// The submissions found at <paramref name="path"/> (one that cannot be run carries its <see cref="Submission.Problem"/>),
    /// and the problems that stop the whole batch (no such folder, a label used twice, a line that is not LABEL COMMAND).
    /// </summary>
    public static (List<Submission> Found, List<string> Problems) Load(string path, string? program)
    {
        var found = new List<Submission>();
        var problems = new List<string>();
        if (Directory.Exists(path)) FromFolder(Path.GetFullPath(path), program, found, problems);
        else if (File.Exists(path))
        {
            if (program is not null) problems.Add("--program picks the program inside each student's folder; a manifest names each command itself");
            FromManifest(Path.GetFullPath(path), found, problems);
        }
        else problems.Add($"'{Values.Show(path)}' is neither a folder of submissions nor a manifest file");

        foreach (var twice in found.GroupBy(s => s.Label, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
            problems.Add($"the label '{twice.Key}' is used {twice.Count()} times ({string.Join(", ", twice.Select(s => s.Origin))}): every submission needs its own");
        if (found.Count > MaxSubmissions) problems.Add($"{found.Count:N0} submissions; at most {MaxSubmissions:N0} in one batch");
        if (found.Count == 0 && problems.Count == 0) problems.Add($"'{Values.Show(path)}' holds no submission (a folder per student with their program, or a manifest)");
        return (found, problems);
    }

    private static void FromFolder(string folder, string? program, List<Submission> found, List<string> problems)
    {
        var entries = new DirectoryInfo(folder).EnumerateFileSystemInfos().Where(e => !e.Name.StartsWith('.')).OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
        foreach (var entry in entries)
        {
            if (entry is DirectoryInfo dir)
            {
                string origin = $"folder {dir.Name}";
                if (CheckLabel(dir.Name, origin, problems) is not { } label) continue;
                string? file;
                if (program is not null)
                {
                    file = Path.Combine(dir.FullName, program);
                    if (!File.Exists(file)) { found.Add(Rejected(label, origin, $"no program '{Values.Show(program)}' in {dir.FullName}")); continue; }
                    if (!IsExecutable(file)) { found.Add(Rejected(label, origin, $"{file} is not executable (chmod +x)")); continue; }
                }
                else
                {
                    var programs = dir.EnumerateFiles().Where(f => !f.Name.StartsWith('.') && IsExecutable(f.FullName)).Select(f => f.FullName).Order(StringComparer.Ordinal).ToList();
                    if (programs.Count != 1)
                    {
                        found.Add(Rejected(label, origin, programs.Count == 0
                            ? $"no executable program in {dir.FullName} (give --program NAME, or list the submission in a manifest)"
                            : $"{programs.Count} executable programs in {dir.FullName} ({string.Join(", ", programs.Select(Path.GetFileName))}): give --program NAME"));
                        continue;
                    }
                    file = programs[0];
                }
                found.Add(new Submission { Label = label, Command = [file], Origin = origin });
            }
            else if (entry is FileInfo f && IsExecutable(f.FullName))
            {
                string origin = $"program {f.Name}";
                if (CheckLabel(Path.GetFileNameWithoutExtension(f.Name), origin, problems) is { } label)
                    found.Add(new Submission { Label = label, Command = [f.FullName], Origin = origin });
            }
        }
    }

    /// <summary>
    /// A manifest: one submission per line, <c>LABEL COMMAND...</c> (or <c>LABEL PATH.dll [FACTORY-TYPE]</c>); blank
    /// lines and lines starting with '#' are skipped. The command is split as a POSIX shell would
    /// ('...' and "..." quote); a word that names an existing file relative to the manifest's folder
    /// (./buddy, alice/buddy.py) is made absolute.
    /// </summary>
    private static void FromManifest(string manifest, List<Submission> found, List<string> problems)
    {
        var info = new FileInfo(manifest);
        if (info.Length > MaxManifestBytes) { problems.Add($"{manifest}: {info.Length:N0} bytes; a manifest is at most {MaxManifestBytes:N0}"); return; }
        string baseDir = Path.GetDirectoryName(manifest)!;
        var lines = File.ReadAllLines(manifest);
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            string origin = $"{Path.GetFileName(manifest)} line {n + 1}";
            IReadOnlyList<string> words;
            try { words = CommandLineWords.Split(line); }
            catch (ArgumentException e) { problems.Add($"{origin}: {e.Message}"); continue; }
            if (words.Count < 2) { problems.Add($"{origin}: a label and a command are needed (LABEL COMMAND...), got '{Values.Show(line)}'"); continue; }
            if (CheckLabel(words[0], origin, problems) is not { } label) continue;
            var command = words.Skip(1).Select(w => Absolute(w, baseDir)).ToList();
            if (command.Count <= 2 && command[0].EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            {
                if (!File.Exists(command[0])) { found.Add(Rejected(label, origin, $"the assembly {command[0]} does not exist")); continue; }
                found.Add(new Submission { Label = label, Assembly = command[0], TypeName = command.Count == 2 ? command[1] : null, Origin = origin });
                continue;
            }
            if (ImplementationOptions.ResolveProgram(command[0], out var why) is null) { found.Add(Rejected(label, origin, why)); continue; }
            found.Add(new Submission { Label = label, Command = command, Origin = origin });
        }
    }

    private static Submission Rejected(string label, string origin, string problem) => new() { Label = label, Origin = origin, Problem = problem };

    /// <summary>A word naming a file or folder relative to the manifest's folder, made absolute; other words as they are.</summary>
    private static string Absolute(string word, string baseDir)
    {
        if (Path.IsPathRooted(word) || !word.Contains('/')) return word;
        try
        {
            string full = Path.GetFullPath(Path.Combine(baseDir, word));
            return File.Exists(full) || Directory.Exists(full) ? full : word;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException) { return word; }
    }

    private static string? CheckLabel(string text, string origin, List<string> problems)
    {
        var parsed = Values.Label(text, "a label");
        if (!parsed.Ok) { problems.Add($"{origin}: {parsed.Error}"); return null; }
        return parsed.Value;
    }

    private static bool IsExecutable(string file) =>
        OperatingSystem.IsWindows() ? file.EndsWith(".exe", StringComparison.OrdinalIgnoreCase)
            : (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;

    /// <summary>A folder name for a label: letters, digits, '.', '-' and '_' kept, anything else '_', unique among <paramref name="taken"/>.</summary>
    public static string FolderName(string label, ISet<string> taken)
    {
        var name = new string(label.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray()).Trim('.');
        if (name.Length == 0) name = "submission";
        if (name.Length > 80) name = name[..80];
        string candidate = name;
        for (int i = 2; !taken.Add(candidate); i++) candidate = $"{name}-{i}";
        return candidate;
    }
}
