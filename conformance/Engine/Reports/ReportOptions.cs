namespace KernelMm.Conformance.Reports;

/// <summary>What the file reports (JUnit, JSON, HTML) and the console report need beyond the result itself.</summary>
public sealed record ReportOptions
{
    /// <summary>The command that runs the CLI, put before the replay arguments.</summary>
    public string ReplayPrefix { get; init; } = Replay.DefaultPrefix;
    /// <summary>C# expression that builds the implementation's factory in xunit snippets; null derives it from the judged factory (<see cref="FactoryCode.For"/>).</summary>
    public string? FactoryExpression { get; init; }
    /// <summary>Console only: print a ready-to-paste xunit test under each failure.</summary>
    public bool XunitSnippets { get; init; }
    /// <summary>Console only: the terminal's width, which the table fits by cutting statements; null (redirected output) prints them whole.</summary>
    public int? Width { get; init; }
    /// <summary>When the report was made; left out of the report when null (renders are then deterministic).</summary>
    public DateTimeOffset? GeneratedAt { get; init; }

    /// <summary>The factory's C# with its usings; wins over <see cref="FactoryExpression"/>. Null derives it from the judged factory.</summary>
    public FactoryCode? Factory { get; init; }

    internal FactoryCode FactoryFor(Running.SuiteResult result) =>
        Factory ?? (FactoryExpression is { } expression ? FactoryCode.Of(expression) : FactoryCode.For(result.Factory, result.Implementation));
}
