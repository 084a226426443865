using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace KernelMm.Conformance.Cli.Grading;

/// <summary>
/// One child process in a process group of its own, with a wall-clock limit, stopped by its group
/// and never by name: SIGTERM to the group first (kmm-conformance then stops the programs it judges
/// on its way out), SIGKILL to the group after a grace period. On Linux the group is made by
/// setsid(1), which execs the command in place (the pid is the command's own and leads its group);
/// without setsid the process tree is killed instead. Standard output and error go to files, each
/// cut at <see cref="MaxLogBytes"/>; standard input is empty.
/// </summary>
public sealed class IsolatedRun : IDisposable
{
    /// <summary>Most bytes kept of each of the child's output streams.</summary>
    public const long MaxLogBytes = 8L << 20;
    /// <summary>How long a child has between SIGTERM and SIGKILL.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    private static readonly ConcurrentDictionary<IsolatedRun, byte> Live = new();

    static IsolatedRun()
    {
        // The grader stopping (Ctrl-C, SIGTERM) stops every run it started.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { foreach (var run in Live.Keys) run.KillGroup(force: true); };
    }

    private readonly Process _process;
    private readonly Task _stdout, _stderr;
    private readonly bool _ownGroup;

    private IsolatedRun(Process process, bool ownGroup, string stdoutPath, string stderrPath)
    {
        _process = process;
        _ownGroup = ownGroup;
        _process.StandardInput.Close();
        _stdout = Copy(process.StandardOutput.BaseStream, stdoutPath);
        _stderr = Copy(process.StandardError.BaseStream, stderrPath);
        Live.TryAdd(this, 0);
    }

    /// <summary>The child's pid (its process group's id when <see cref="OwnGroup"/>).</summary>
    public int Pid => _process.Id;
    /// <summary>Whether the child leads a process group of its own.</summary>
    public bool OwnGroup => _ownGroup;

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/> in <paramref name="workingDirectory"/>.</summary>
    public static IsolatedRun Start(string fileName, IEnumerable<string> arguments, string workingDirectory,
        IReadOnlyDictionary<string, string> environment, string stdoutPath, string stderrPath)
    {
        string? setsid = Setsid;
        var psi = new ProcessStartInfo(setsid ?? fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (setsid is not null) psi.ArgumentList.Add(fileName);
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {fileName}");
        return new IsolatedRun(process, setsid is not null, stdoutPath, stderrPath);
    }

    /// <summary>
    /// Waits for the child to exit, at most <paramref name="limit"/>; past it, stops its group
    /// (SIGTERM, then SIGKILL after <see cref="Grace"/>). Returns the exit code and whether the limit stopped it.
    /// </summary>
    public async Task<(int ExitCode, bool TimedOut)> WaitAsync(TimeSpan limit, CancellationToken cancel = default)
    {
        bool timedOut = false;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel))
        {
            deadline.CancelAfter(limit);
            try { await _process.WaitForExitAsync(deadline.Token); }
            catch (OperationCanceledException)
            {
                timedOut = !cancel.IsCancellationRequested;
                KillGroup(force: false);
                using var grace = new CancellationTokenSource(Grace);
                try { await _process.WaitForExitAsync(grace.Token); }
                catch (OperationCanceledException) { KillGroup(force: true); await _process.WaitForExitAsync(CancellationToken.None); }
            }
        }
        // Whatever the child left in its group goes with it (a program it started that outlived it).
        // Right after the child is reaped: its pid cannot have been handed out again in between, and
        // while a member of its group lives the kernel does not reuse the group's id.
        KillGroup(force: true);
        await Task.WhenAll(_stdout, _stderr);
        return (_process.ExitCode, timedOut);
    }

    /// <summary>SIGTERM (or SIGKILL with <paramref name="force"/>) to the child's process group; the process tree where there is no group.</summary>
    public void KillGroup(bool force)
    {
        if (_ownGroup && OperatingSystem.IsLinux())
        {
            try { kill(-_process.Id, force ? SigKill : SigTerm); return; }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        }
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { }
    }

    public void Dispose()
    {
        Live.TryRemove(this, out _);
        _process.Dispose();
    }

    private static async Task Copy(Stream from, string path)
    {
        await using var to = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
        var buffer = new byte[64 * 1024];
        long kept = 0;
        int n;
        while ((n = await from.ReadAsync(buffer)) > 0)
        {
            if (kept >= MaxLogBytes) continue; // keep draining, so the child never blocks on a full pipe
            int take = (int)Math.Min(n, MaxLogBytes - kept);
            await to.WriteAsync(buffer.AsMemory(0, take));
            kept += take;
            if (kept >= MaxLogBytes) await to.WriteAsync("\n[kmm-conformance grade: output cut here]\n"u8.ToArray());
        }
    }

    private const int SigTerm = 15, SigKill = 9;

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    /// <summary>setsid(1) (util-linux or busybox), or null where there is none.</summary>
    private static string? Setsid { get; } = FindSetsid();

    private static string? FindSetsid()
    {
        if (!OperatingSystem.IsLinux()) return null;
        foreach (var dir in new[] { "/usr/bin", "/bin", "/usr/sbin", "/sbin" })
        {
            string path = Path.Combine(dir, "setsid");
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>prlimit(1) (util-linux), or null where there is none.</summary>
    public static string? Prlimit { get; } = Find("prlimit");

    private static string? Find(string name)
    {
        if (!OperatingSystem.IsLinux()) return null;
        foreach (var dir in new[] { "/usr/bin", "/bin", "/usr/sbin", "/sbin" })
        {
            string path = Path.Combine(dir, name);
            if (File.Exists(path)) return path;
        }
        return null;
    }
}
