using KernelMm.Conformance.OutOfProcess;

namespace KernelMm.Conformance.Cli.Options;

/// <summary>
/// Response files (<c>kmm-conformance run @args.rsp</c>), the .NET convention, read safely: only a
/// regular file of at most <see cref="MaxBytes"/>, one or more words per line split as a POSIX shell
/// would (quotes, backslashes), blank lines and lines starting with # ignored. A device, a pipe or a
/// huge file is refused instead of read forever.
/// </summary>
public static class ResponseFiles
{
    public const long MaxBytes = 1 << 20;

    /// <summary>System.CommandLine's TryReplaceToken: the words of the file named by <paramref name="token"/> (without its @).</summary>
    public static bool TryReplace(string token, out IReadOnlyList<string>? words, out string? error)
    {
        words = null;
        error = null;
        string path = token;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) { error = $"response file '{Values.Show(path)}' not found"; return false; }
            // Devices and pipes report length 0 and may never end: never opened.
            if (info.Length == 0) { error = $"response file '{Values.Show(path)}' is empty or not a regular file"; return false; }
            if (info.Length > MaxBytes) { error = $"response file '{Values.Show(path)}' is larger than {MaxBytes >> 10} KiB"; return false; }
            var list = new List<string>();
            foreach (var line in File.ReadAllLines(path))
            {
                var trimmed = line.Trim();
                if (trimmed.Length == 0 || trimmed.StartsWith('#')) continue;
                list.AddRange(CommandLineWords.Split(trimmed));
            }
            words = list;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            error = $"response file '{Values.Show(path)}': {e.Message}";
            return false;
        }
    }
}
