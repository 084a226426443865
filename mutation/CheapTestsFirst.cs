using KernelMm.Tests.Mutation;
using Xunit.Sdk;
using Xunit.v3;

[assembly: TestCollectionOrderer(typeof(CheapTestsFirst))]

namespace KernelMm.Tests.Mutation;

/// <summary>
/// Runs the unit tests of the selection before its few expensive tests (campaigns, fuzzing, hostile
/// sweeps), so that with <c>stopOnFail</c> a mutant a unit test kills is decided before the expensive
/// tests start. A mutant's status does not depend on the order (every test is deterministic); only
/// the time to a kill does. The expensive classes are named here, from a profile of the mutated
/// selection (docs/mutation.md); a class missing from the list only runs earlier than it should.
/// </summary>
public sealed class CheapTestsFirst : ITestCollectionOrderer
{
    /// <summary>Test classes that take a large share of the selection's time, cheapest first.</summary>
    public static readonly string[] ExpensiveLast =
    [
        "UserFamilyScenarioTests",
        "ContractFuzzTests",
        "ReferenceVmCampaignTests",
        "ReferenceVmHostileTests",
        "ReferenceMutationCampaigns",
    ];

    public IReadOnlyCollection<TTestCollection> OrderTestCollections<TTestCollection>(IReadOnlyCollection<TTestCollection> testCollections)
        where TTestCollection : ITestCollection =>
        testCollections
            .OrderBy(c => Rank(c.TestCollectionDisplayName))
            .ThenBy(c => c.TestCollectionDisplayName, StringComparer.Ordinal)
            .ToArray();

    private static int Rank(string collection)
    {
        for (int i = 0; i < ExpensiveLast.Length; i++)
            if (collection.Contains("." + ExpensiveLast[i], StringComparison.Ordinal))
                return i + 1;
        return 0;
    }
}
