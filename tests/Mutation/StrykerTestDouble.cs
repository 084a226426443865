namespace StrykerTestDouble;

/// <summary>
/// Stands in for the class Stryker 5.1.0 injects into a mutated assembly (namespace <c>Stryker</c>
/// and a suffix; these field names and types), for <c>ActiveMutantSwitchTests</c>.
/// </summary>
public static class MutantControl
{
#pragma warning disable CS0649, CS0414, IDE0044 // written by reflection
    public static bool CaptureCoverage;
    public static int ActiveMutant = -2;
    private static string _cachedMutantFilePath = string.Empty;
    private static bool _mutantFilePathCached;
#pragma warning restore CS0649, CS0414, IDE0044

    public static string CachedPath => _cachedMutantFilePath;
    public static bool PathCached => _mutantFilePathCached;

    public static void Reset(string path)
    {
        CaptureCoverage = false;
        ActiveMutant = -2;
        _cachedMutantFilePath = path;
        _mutantFilePathCached = true;
    }
}
