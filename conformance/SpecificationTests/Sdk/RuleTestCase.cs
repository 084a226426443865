using System.Collections.Concurrent;
using System.ComponentModel;
using KernelMm.Spec.Rules;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace KernelMm.Conformance.Specification.Sdk;

/// <summary>
/// One rule's test: displayed as "KeepsRule(ID): statement", with the traits Rule, RuleFamily and Category;
/// skipped up front when the catalogue has not encoded the rule, and at run time when the rule
/// test throws <see cref="SkipRuleException"/>.
/// </summary>
public sealed class RuleTestCase : XunitTestCase
{
    /// <summary>For the de-serializer only.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public RuleTestCase() { }

    /// <summary>The test case of rule <paramref name="ruleId"/> for <paramref name="testMethod"/>.</summary>
    public RuleTestCase(IMessageSink diagnosticMessageSink, TestMethodDisplay defaultMethodDisplay,
        TestMethodDisplayOptions defaultMethodDisplayOptions, ITestMethod testMethod, string ruleId)
        : base(diagnosticMessageSink, defaultMethodDisplay, defaultMethodDisplayOptions, testMethod, [ruleId]) { }

    /// <summary>The rule this test case judges.</summary>
    public string RuleId => (string)TestMethodArguments[0];

    /// <inheritdoc/>
    /// <remarks>
    /// "KeepsRule(PAGE-4): free_pages must receive ...": the method, the rule ID in parentheses as
    /// xunit writes a theory's arguments, and the rule's statement. Test explorers and TRX show it
    /// as is; JUnit loggers, which build a theory's name from the method and the display name from
    /// its first parenthesis on, end up with the same text.
    /// </remarks>
    protected override string GetDisplayName(IAttributeInfo factAttribute, string displayName) =>
        $"{TestMethod.Method.Name}({RuleId})" + (RuleCatalogue.Contains(RuleId) ? $": {RuleCatalogue.Get(RuleId).Statement}" : "");

    /// <inheritdoc/>
    protected override string? GetSkipReason(IAttributeInfo factAttribute)
    {
        var testClass = TestMethod.TestClass.Class.ToRuntimeType();
        if (testClass is null || !RuleCatalogue.Contains(RuleId)) return base.GetSkipReason(factAttribute);
        return SpecificationFamily.Of(testClass)?.StaticSkipReason(RuleCatalogue.Get(RuleId)) ?? base.GetSkipReason(factAttribute);
    }

    /// <inheritdoc/>
    protected override void Initialize()
    {
        base.Initialize();
        AddTrait("Rule", RuleId);
        if (RuleCatalogue.Contains(RuleId)) AddTrait("RuleFamily", RuleCatalogue.Get(RuleId).Family.ToString());
        AddTrait("Category", "Conformance");
    }

    private void AddTrait(string name, string value)
    {
        if (!Traits.TryGetValue(name, out var values)) Traits[name] = values = [];
        if (!values.Contains(value)) values.Add(value);
    }

    /// <inheritdoc/>
    public override async Task<RunSummary> RunAsync(IMessageSink diagnosticMessageSink, IMessageBus messageBus, object[] constructorArguments,
        ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource)
    {
        var testClass = TestMethod.TestClass.Class.ToRuntimeType();
        if (testClass is not null) Running.RunProgress.Register(testClass, diagnosticMessageSink);
        var bus = new RuleMessageBus(messageBus, testClass, RuleId);
        var summary = await base.RunAsync(diagnosticMessageSink, bus, constructorArguments, aggregator, cancellationTokenSource);
        if (bus.Skipped > 0)
        {
            summary.Failed -= bus.Skipped;
            summary.Skipped += bus.Skipped;
        }
        return summary;
    }
}

/// <summary>
/// Turns a failure by <see cref="SkipRuleException"/> into a skip, and adds the rule's pass note
/// (checks per profile) to a passed test's output.
/// </summary>
internal sealed class RuleMessageBus(IMessageBus inner, Type? testClass, string ruleId) : IMessageBus
{
    public int Skipped { get; private set; }

    public bool QueueMessage(IMessageSinkMessage message)
    {
        if (message is ITestFailed failed && failed.ExceptionTypes.FirstOrDefault() == typeof(SkipRuleException).FullName)
        {
            Skipped++;
            return inner.QueueMessage(new TestSkipped(failed.Test, failed.Messages.FirstOrDefault() ?? "skipped"));
        }
        if (message is ITestPassed passed && testClass is not null && RuleNotes.Take(testClass, ruleId) is { } note)
        {
            string output = string.IsNullOrEmpty(passed.Output) ? note + Environment.NewLine : note + Environment.NewLine + passed.Output;
            return inner.QueueMessage(new TestPassed(passed.Test, passed.ExecutionTime, output));
        }
        return inner.QueueMessage(message);
    }

    /// <summary>The inner bus belongs to the runner; it is not disposed here.</summary>
    public void Dispose() { }
}

/// <summary>Pass notes from rule tests to their test case's message bus.</summary>
internal static class RuleNotes
{
    private static readonly ConcurrentDictionary<(Type, string), string> Notes = new();

    public static void Record(Type testClass, string ruleId, string note) => Notes[(testClass, ruleId)] = note;

    public static string? Take(Type testClass, string ruleId) => Notes.TryRemove((testClass, ruleId), out var note) ? note : null;
}
