using KernelMm.Conformance.Reports;

namespace KernelMm.Conformance.Cli.Execution;

/// <summary>How this kmm-conformance was started and where it writes, so that printed commands work as printed.</summary>
public static class Invocation
{
    /// <summary>
    /// The command that starts kmm-conformance again, put before every printed replay command:
    /// <c>kmm-conformance</c> when installed as a .NET tool, <c>dotnet run --project conformance/Cli --</c>
    /// from the repository's root, else the path of this program.
    /// </summary>
    public static string Prefix()
    {
        string sep = Path.DirectorySeparatorChar.ToString();
        if (AppContext.BaseDirectory.Contains($"{sep}.store{sep}", StringComparison.Ordinal)) return KmmConformance.Name;
        if (File.Exists(Path.Combine("conformance", "Cli", "KernelMm.Conformance.Cli.csproj"))) return Replay.DefaultPrefix;
        string? process = Environment.ProcessPath;
        if (process is not null && Path.GetFileNameWithoutExtension(process) == KmmConformance.Name) return Options.ImplementationChoice.Quote(process);
        return $"dotnet {Options.ImplementationChoice.Quote(typeof(Invocation).Assembly.Location)}";
    }

    /// <summary>The terminal's width when <paramref name="output"/> is the console on a terminal; null when redirected (then nothing is cut).</summary>
    public static int? TerminalWidth(TextWriter output)
    {
        if (!ReferenceEquals(output, Console.Out) || Console.IsOutputRedirected) return null;
        try { return Console.WindowWidth > 0 ? Console.WindowWidth : null; }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException or InvalidOperationException) { return null; }
    }
}
