using System.Runtime.InteropServices;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>
/// Linux: each implementation program runs in a process group of its own, so that the runner stops
/// it and everything it started with one kill(-pgid, SIGKILL), by process group and never by name,
/// including a child that outlived its parent while holding the pipes. The program is started
/// through setsid(1) (util-linux or busybox), which makes it a session and group leader and execs
/// it in place: the pid the runner sees is the program's own.
/// </summary>
internal static class ProcessGroups
{
    private const int SigKill = 9, XOk = 1;

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern int getpgid(int pid);

    [DllImport("libc.so.6", SetLastError = true, CharSet = CharSet.Ansi)]
    private static extern int access(string path, int mode);

    /// <summary>The setsid program, or null where there is none (not Linux): programs then share the runner's group.</summary>
    public static string? Launcher { get; } = FindLauncher();

    private static string? FindLauncher()
    {
        if (!OperatingSystem.IsLinux()) return null;
        foreach (var dir in new[] { "/usr/bin", "/bin", "/usr/sbin", "/sbin" }.Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')))
        {
            if (dir.Length == 0) continue;
            string path = Path.Combine(dir, "setsid");
            if (File.Exists(path) && access(path, XOk) == 0) return path;
        }
        return null;
    }

    /// <summary>Why <paramref name="path"/> cannot be executed (checked before setsid would fail on it), or null.</summary>
    public static string? NotExecutable(string path)
    {
        if (!File.Exists(path)) return "no such file";
        if (access(path, XOk) != 0) return "permission denied (not executable)";
        return null;
    }

    /// <summary>The process group of a live process, or 0.</summary>
    public static int GroupOf(int pid)
    {
        int group = getpgid(pid);
        return group > 0 ? group : 0;
    }

    /// <summary>SIGKILL to every process of the group (nothing when it has none left).</summary>
    public static void Kill(int group)
    {
        if (group > 1) kill(-group, SigKill);
    }
}

/// <summary>Deaths by signal, as .NET reports them (exit status 128 + N).</summary>
public static class Signals
{
    /// <summary>The signal a process died from, from its exit status; null for a normal exit.</summary>
    public static int? Of(int? exitCode) =>
        !OperatingSystem.IsWindows() && exitCode is > 128 and < 128 + 65 ? exitCode - 128 : null;

    public static string Name(int signal) => signal switch
    {
        1 => "SIGHUP", 2 => "SIGINT", 3 => "SIGQUIT", 4 => "SIGILL", 5 => "SIGTRAP", 6 => "SIGABRT", 7 => "SIGBUS", 8 => "SIGFPE",
        9 => "SIGKILL", 10 => "SIGUSR1", 11 => "SIGSEGV", 12 => "SIGUSR2", 13 => "SIGPIPE", 14 => "SIGALRM", 15 => "SIGTERM",
        24 => "SIGXCPU", 25 => "SIGXFSZ", 31 => "SIGSYS",
        _ => $"signal {signal}",
    };
}

/// <summary>
/// Linux: kills a process and all its descendants with SIGKILL, finding them through
/// /proc/PID/task/TID/children (much cheaper than scanning every process, as Process.Kill(true) does).
/// </summary>
internal static class ProcessTree
{
    private const int SigKill = 9;

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    /// <summary>False when the tree cannot be found this way (not Linux, no children files): use Process.Kill(true).</summary>
    public static bool TryKill(int pid)
    {
        if (!OperatingSystem.IsLinux()) return false;
        var pids = new List<int>();
        if (!Collect(pid, pids, 0)) return false;
        foreach (int p in pids) kill(p, SigKill);
        return true;
    }

    private static bool Collect(int pid, List<int> into, int depth)
    {
        into.Add(pid);
        if (depth > 32) return true;
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                string file = Path.Combine(task, "children");
                if (!File.Exists(file)) return false;
                foreach (var word in File.ReadAllText(file).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    if (int.TryParse(word, out int child) && !Collect(child, into, depth + 1)) return false;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return true;
    }
}
