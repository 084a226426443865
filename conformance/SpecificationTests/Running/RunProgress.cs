using System.Collections.Concurrent;
using KernelMm.Conformance.Running;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace KernelMm.Conformance.Specification.Running;

/// <summary>
/// Progress of a family run, while the first rule test of a class carries it: one xunit diagnostic
/// message per property (family x profile x RAM size) as it finishes, with checks, failing rules and
/// time so far. Test runners show diagnostic messages when asked: <c>"diagnosticMessages": true</c>
/// in xunit.runner.json, or <c>dotnet test -- xUnit.DiagnosticMessages=true</c> (PACKAGE.md).
/// </summary>
internal static class RunProgress
{
    private static readonly ConcurrentDictionary<Type, IMessageSink> Sinks = new();

    /// <summary>The diagnostic sink of the rule test of <paramref name="testClass"/> that is running now.</summary>
    public static void Register(Type testClass, IMessageSink sink) => Sinks[testClass] = sink;

    /// <summary>A progress callback for <see cref="SuiteOptions.OnProgress"/> that reports for <paramref name="testClass"/>, or null when nobody listens.</summary>
    public static Action<SuiteProgress>? For(Type testClass, string family)
    {
        if (!Sinks.TryGetValue(testClass, out var sink)) return null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string name = testClass.Name;
        return p =>
        {
            if (!p.Finished) return;
            sink.OnMessage(new DiagnosticMessage(
                $"{name}: family '{family}' [{p.Done}/{p.Total}] {p.ProfileLabel}{(p.Rerun ? " (saved failure)" : "")} done: " +
                $"{p.Checks:N0} checks, {p.Operations:N0} checked operations, {p.Failures} failing rule(s) so far, {clock.Elapsed.TotalSeconds:F1} s"));
        };
    }

    /// <summary>One line to the class's sink, if any.</summary>
    public static void Say(Type testClass, string text)
    {
        if (Sinks.TryGetValue(testClass, out var sink)) sink.OnMessage(new DiagnosticMessage($"{testClass.Name}: {text}"));
    }
}
