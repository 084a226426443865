using KernelMm.Conformance.Running;
using KernelMm.Conformance.Specification;
using KernelMm.Conformance.Specification.Sdk;
using KernelMm.Spec.Rules;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace KernelMm.SpecificationTests.Tests;

/// <summary>The xunit side: one test case per rule named by its ID, traits, static and dynamic skips.</summary>
public sealed class DiscoveryTests
{
    private static ITestMethod RuleMethod(Type testClass)
    {
        var assembly = new TestAssembly(Reflector.Wrap(testClass.Assembly));
        var collection = new TestCollection(assembly, null, "rule tests");
        var @class = new TestClass(collection, Reflector.Wrap(testClass));
        return new TestMethod(@class, Reflector.Wrap(testClass.GetMethod(nameof(FamilySpecificationTests.KeepsRule))!));
    }

    private static List<IXunitTestCase> Discover(Type testClass)
    {
        var method = RuleMethod(testClass);
        var attribute = method.Method.GetCustomAttributes(typeof(RuleTheoryAttribute)).Single();
        return new RuleTestDiscoverer(new NullMessageSink()).Discover(new DiscoveryOptions(), method, attribute).ToList();
    }

    [Fact]
    public void One_test_case_per_rule_named_by_its_id_and_statement()
    {
        var cases = Discover(typeof(ReferencePageAllocatorTests));
        var family = SpecificationFamily.Of(typeof(ReferencePageAllocatorTests))!;
        Assert.Equal(family.Rules.Select(r => r.Id), cases.Select(c => ((RuleTestCase)c).RuleId));
        var page4 = cases.Single(c => c.Traits["Rule"].Contains("PAGE-4"));
        Assert.Equal("KeepsRule(PAGE-4): " + RuleCatalogue.Get("PAGE-4").Statement, page4.DisplayName);
        Assert.Equal(["PAGE"], page4.Traits["RuleFamily"]);
        Assert.Equal(["Conformance"], page4.Traits["Category"]);
        Assert.Null(page4.SkipReason);
        Assert.Equal(cases.Count, cases.Select(c => c.UniqueID).Distinct().Count());
    }

    [Fact]
    public void Test_cases_survive_serialization_between_discovery_and_execution()
    {
        foreach (var testCase in Discover(typeof(ReferencePageAllocatorTests)))
        {
            var copy = SerializationHelper.Deserialize<IXunitTestCase>(SerializationHelper.Serialize(testCase))!;
            Assert.IsType<RuleTestCase>(copy);
            Assert.Equal(testCase.DisplayName, copy.DisplayName);
            Assert.Equal(testCase.SkipReason, copy.SkipReason);
            Assert.Equal(testCase.UniqueID, copy.UniqueID);
            Assert.Equal(testCase.Traits["Rule"], copy.Traits["Rule"]);
        }
    }

    [Fact]
    public void Pending_rules_are_skipped_at_discovery_with_the_catalogue_reason()
    {
        // Every rule of the catalogue is encoded today, so a pending one is made from an encoded one.
        var family = SpecificationFamily.Of(typeof(ReferencePageAllocatorTests))!;
        var encoded = RuleCatalogue.All.First(r => r.Id == "PAGE-1");
        Assert.Null(family.StaticSkipReason(encoded));
        var pending = encoded with { Status = RuleStatus.Pending, Check = "Pending: planned check: blocks never overlap." };
        Assert.Equal("pending: planned check: blocks never overlap.", family.StaticSkipReason(pending));
        // A rule the catalogue encodes but this family's engine does not check is pending here too.
        var elsewhere = RuleCatalogue.All.First(r => r.Id == "VMAL-1");
        Assert.StartsWith("pending: the rule is encoded in the catalogue, but this version of the 'pages' family", family.StaticSkipReason(elsewhere));
    }

    [Fact]
    public void A_rule_is_reported_by_exactly_one_family_so_a_draft_family_over_checked_rules_has_none()
    {
        // VMAL's rules are checked by the vm family: a family without an engine over VMAL reports none of them.
        Assert.Empty(Discover(typeof(DraftVmallocSpecificationTests)));
        Assert.Contains(RuleCatalogue.All.Where(r => r.Family == RuleFamily.VMAL), r => SuiteRunner.Families.Any(f => f.Name == "vm" && f.RuleIds.Contains(r.Id)));
    }

    [Fact]
    public void Class_outside_any_family_gets_an_error_test_case_explaining_the_misuse()
    {
        var error = Assert.IsType<ExecutionErrorTestCase>(Assert.Single(Discover(typeof(NoFamilyTests))));
        Assert.Contains("must derive from a family base", error.ErrorMessage);
    }

    [Theory]
    [InlineData("ZONE-4", "skipped", "n/a: 'sample-buddy' does not declare Highmem, ExecutionContext")]
    [InlineData("PAGE-4", "passed", "PAGE-4 passed: x86-32 ")]
    public async Task Running_a_rule_test_case_reports_skip_or_pass_with_its_text(string ruleId, string expected, string text)
    {
        var testCase = new RuleTestCase(new NullMessageSink(), TestMethodDisplay.ClassAndMethod, TestMethodDisplayOptions.None,
            RuleMethod(typeof(SampleAllocatorInProcessTests)), ruleId);
        var bus = new CollectingBus();
        var summary = await testCase.RunAsync(new NullMessageSink(), bus, [], new ExceptionAggregator(), new CancellationTokenSource());

        Assert.Equal(1, summary.Total);
        Assert.Equal(0, summary.Failed);
        if (expected == "skipped")
        {
            Assert.Equal(1, summary.Skipped);
            var skipped = Assert.Single(bus.Messages.OfType<ITestSkipped>());
            Assert.StartsWith(text, skipped.Reason);
            Assert.Empty(bus.Messages.OfType<ITestFailed>());
        }
        else
        {
            Assert.Equal(0, summary.Skipped);
            var passed = Assert.Single(bus.Messages.OfType<ITestPassed>());
            Assert.StartsWith(text, passed.Output);
        }
    }

    private sealed class CollectingBus : IMessageBus
    {
        public List<IMessageSinkMessage> Messages { get; } = [];
        public bool QueueMessage(IMessageSinkMessage message) { lock (Messages) Messages.Add(message); return true; }
        public void Dispose() { }
    }

    private sealed class NullMessageSink : LongLivedMarshalByRefObject, IMessageSink
    {
        public bool OnMessage(IMessageSinkMessage message) => true;
    }

    private sealed class DiscoveryOptions : ITestFrameworkDiscoveryOptions
    {
        private readonly Dictionary<string, object?> _values = new();
        public TValue GetValue<TValue>(string name) => _values.TryGetValue(name, out var value) ? (TValue)value! : default!;
        public void SetValue<TValue>(string name, TValue value) => _values[name] = value;
    }
}
