namespace KernelMm.Conformance.Reports;

/// <summary>What the file reports (JUnit, JSON, HTML) and the console report need beyond the result itself.</summary>
public sealed record ReportOptions
{
    /// <summary>The command that runs the CLI, put before the replay arguments.</summary>
    public string ReplayPrefix { get; init; } = Replay.DefaultPrefix;
    /// <summary>C# expression that builds the implementation's factory in xunit snippets; null picks one from the implementation's name.</summary>
    public string? FactoryExpression { get; init; }
    /// <summary>Console only: print a ready-to-paste xunit test under each failure.</summary>
    public bool XunitSnippets { get; init; }
    /// <summary>Console only: the terminal's width, which the table fits by cutting statements; null (redirected output) prints them whole.</summary>
    public int? Width { get; init; }
    /// <summary>When the report was made; left out of the report when null (renders are then deterministic).</summary>
    public DateTimeOffset? GeneratedAt { get; init; }

    internal string FactoryFor(string implementation) =>
        FactoryExpression ?? (implementation == "reference" ? XunitSnippet.ReferenceFactory : $"new MyFactory() /* the IImplementationFactory of '{implementation.Replace("*/", "* /")}' */");
}
