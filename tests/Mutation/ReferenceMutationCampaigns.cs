using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Mutation;

/// <summary>
/// Small fixed-seed campaigns of each sequential family against the reference, one test per profile
/// and RAM size so that Stryker's per-test coverage runs only the ones a mutant's code takes part in.
/// The test selection of the whole-reference mutation run (stryker-config.*.json, docs/mutation.md);
/// they run in the ordinary test run too (a few seconds), where they are one more fixed-seed check
/// that the reference keeps every rule.
/// </summary>
public class ReferenceMutationCampaigns
{
    private const ulong MiB = 1 << 20, GiB = 1 << 30;

    /// <summary>
    /// Sequences per campaign. Every mutant whose code a campaign runs repeats the campaign, so this count
    /// is most of the whole-reference run's time (docs/mutation.md gives the figures for 25 and for 10).
    /// </summary>
    private const int Sequences = 10;

    /// <summary>Every profile at a small size, and at 1 GiB the profiles that have HIGHMEM there.</summary>
    public static TheoryData<string, ulong> ProfilesAndSizes()
    {
        var data = new TheoryData<string, ulong>();
        foreach (var p in Profiles.All)
        {
            data.Add(p.Name, 64 * MiB);
            if (p.HighmemStart is not null) data.Add(p.Name, 1 * GiB);
        }
        return data;
    }

    [Theory, MemberData(nameof(ProfilesAndSizes))]
    public void Pages(string profile, ulong memory) => MutationCampaign.Run("pages", Profiles.Get(profile), memory, seed: 11, sequences: Sequences, maxSteps: 60);

    [Theory, MemberData(nameof(ProfilesAndSizes))]
    public void Heap(string profile, ulong memory) => MutationCampaign.Run("heap", Profiles.Get(profile), memory, seed: 12, sequences: Sequences, maxSteps: 80);

    [Theory, MemberData(nameof(ProfilesAndSizes))]
    public void Vm(string profile, ulong memory) => MutationCampaign.Run("vm", Profiles.Get(profile), memory, seed: 13, sequences: Sequences, maxSteps: 60);

    [Theory, MemberData(nameof(ProfilesAndSizes))]
    public void User(string profile, ulong memory) => MutationCampaign.Run("user", Profiles.Get(profile), memory, seed: 14, sequences: Sequences, maxSteps: 60);
}
