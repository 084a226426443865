using System.Text;

namespace KernelMm.Conformance.Parallel;

/// <summary>
/// Draws a parallel run as quickcheck-state-machine draws a history it couldn't linearise: one
/// column per CPU, one row per call or return in real-time order (tickets), "│" where a CPU has a call
/// in flight. A call whose return is the very next event is drawn on one row ("call = result").
/// Prefix calls come first and calls after the join last, across the whole width.
/// </summary>
public static class InterleavingDiagram
{
    private const int MaxColumn = 64;

    public static IReadOnlyList<string> Render(IReadOnlyList<TimedCall> calls, int maxRows = 120)
    {
        var cpus = calls.Where(c => c.Cpu >= 0).Select(c => c.Cpu).Distinct().Order().ToList();
        var column = cpus.Select((cpu, i) => (cpu, i)).ToDictionary(p => p.cpu, p => p.i);
        var events = new List<(long Time, TimedCall Call, bool Start)>();
        foreach (var c in calls)
        {
            events.Add((c.Start, c, true));
            events.Add((c.End, c, false));
        }
        events.Sort((a, b) => a.Time.CompareTo(b.Time));

        // Cells first, widths after.
        var rows = new List<(string? Whole, string?[] Cells)>();
        var inFlight = new bool[cpus.Count];
        for (int e = 0; e < events.Count; e++)
        {
            var (_, call, start) = events[e];
            if (call.Cpu < 0)
            {
                if (start) rows.Add(($"[{(call.Cpu == TimedCall.Prefix ? "prefix" : "after join")}] {call.Call}{Result(call.Result)}", []));
                continue;
            }
            int col = column[call.Cpu];
            var cells = new string?[cpus.Count];
            for (int i = 0; i < cells.Length; i++) cells[i] = inFlight[i] ? "│" : null;
            if (start)
            {
                bool returnsNext = e + 1 < events.Count && ReferenceEquals(events[e + 1].Call, call);
                if (returnsNext) { cells[col] = call.Call + Result(call.Result); e++; }
                else { cells[col] = call.Call; inFlight[col] = true; }
            }
            else
            {
                cells[col] = $"└{(call.Result.Length == 0 ? " returns" : $"→ {call.Result}")}";
                inFlight[col] = false;
            }
            rows.Add((null, cells));
        }

        var widths = new int[cpus.Count];
        foreach (var (_, cells) in rows)
            for (int i = 0; i < cells.Length; i++) widths[i] = Math.Min(MaxColumn, Math.Max(widths[i], (cells[i]?.Length ?? 0) + 2));
        for (int i = 0; i < widths.Length; i++) widths[i] = Math.Max(widths[i], 8);

        var lines = new List<string>();
        if (cpus.Count > 0)
            lines.Add(Join(cpus.Select(c => $"CPU{c}").ToArray(), widths));
        foreach (var (whole, cells) in rows)
        {
            if (lines.Count >= maxRows)
            {
                lines.Add($"... {rows.Count - maxRows + 1} more rows");
                break;
            }
            lines.Add(whole ?? Join(cells, widths));
        }
        return lines;
    }

    private static string Result(string result) => result.Length == 0 ? "" : $" = {result}";

    private static string Join(string?[] cells, int[] widths)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < cells.Length; i++)
        {
            string text = cells[i] ?? "";
            if (text.Length > widths[i] - 1) text = text[..(widths[i] - 2)] + "…";
            sb.Append(i == cells.Length - 1 ? text : text.PadRight(widths[i]));
        }
        return sb.ToString().TrimEnd();
    }
}
