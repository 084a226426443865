using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Suite;

/// <summary>
/// Issue 7, section 2: the suite shares data, never judgement, with the implementations it judges.
/// Profile parameters may be shared; whatever decides what is legal (which GFP bits exist, which zones
/// a request may use, where the direct mapping ends, which size class serves a request) is derived
/// by the checks themselves, so that one bug cannot blind both sides.
/// </summary>
public class SharedJudgementTests
{
    private const ulong MiB = 1 << 20, GiB = 1 << 30;

    // ---- A wrong answer planted in the shared data is noticed ---------------------------------

    public static TheoryData<string> Plants => new(PlantTable.Keys);

    /// <summary>
    /// Each plant: the profile judged, the value changed in the record the reference boots with, a
    /// memory size where it shows, and the rules it may be reported as (the first of them is the one it
    /// breaks most directly; a wrong zone edge, say, also misplaces kmalloc's GFP_DMA objects).
    /// </summary>
    private static readonly Dictionary<string, (Profile Profile, Func<Profile, Profile> Plant, ulong Memory, string[] Rules)> PlantTable = new()
    {
        // The reference reads "GFP_BUFFER exists" from its profile; x86-32 has no GFP_BUFFER.
        ["HasGfpBuffer on x86-32"] = (Profiles.X86_32, p => p with { HasGfpBuffer = true }, 64 * MiB, ["GFP-7"]),
        // ZONE_DMA's end moved up by 16 MiB in the data the reference builds its zones from.
        ["DmaLimit doubled"] = (Profiles.X86_32, p => p with { DmaLimit = p.DmaLimit * 2 }, 64 * MiB, ["ZONE-1", "ZONE-2", "KMAL-1", "SLAB-11"]),
        // HIGHMEM's start (and so the end of the direct mapping) moved down by 128 MiB; with it the reference's
        // VMALLOC_START, so its vmalloc and ioremap areas start below the suite's window (VMAL-2, DRV-5).
        ["HighmemStart lowered"] = (Profiles.X86_32, p => p with { HighmemStart = p.HighmemStart - 128 * MiB }, 1 * GiB, ["ZONE-1", "ADDR-10", "ZONE-3", "VMAL-2", "DRV-5"]),
        // One more order than the profile has: order-(max+1) blocks are handed out and missing from buddyinfo
        // (so the pages a vmalloc takes do not show leaving the free lists either: VMAL-4).
        ["MaxOrder + 1"] = (Profiles.X86_32, p => p with { MaxOrder = p.MaxOrder + 1 }, 64 * MiB, ["PAGE-2", "PAGE-6", "PAGE-8", "ZONE-1", "ADDR-11", "VMAL-4"]),
        // kmalloc's limit doubled (on linux-2.4, where twice 128 KiB still fits in a page block).
        ["KmallocMaxSize doubled"] = (Profiles.Linux2_4, p => p with { KmallocMaxSize = p.KmallocMaxSize * 2 }, 64 * MiB, ["KMAL-3"]),
        // SLAB_NO_REAP made to exist outside linux-2.4.
        ["HasSlabNoReap on x86-32"] = (Profiles.X86_32, p => p with { HasSlabNoReap = true }, 64 * MiB, ["SLAB-13"]),
        // No VMALLOC_OFFSET hole in the data the reference lays out its kernel addresses from: vmalloc and
        // ioremap areas start right above the direct mapping, below the suite's VMALLOC_START, the hole is
        // mapped, and virt_to_phys just past the direct mapping answers as for a vmalloc address (ADDR-10).
        ["VmallocOffset zero"] = (Profiles.X86_32, p => p with { VmallocOffset = 0 }, 64 * MiB, ["VMAL-2", "ADDR-6", "DRV-5", "ADDR-10"]),
        // The persistent kmap window moved down by 4 MiB: kmaps of HIGHMEM pages land outside the suite's PKMAP window.
        ["PkmapBase lowered"] = (Profiles.X86_32, p => p with { PkmapBase = p.PkmapBase - 4 * MiB }, 1 * GiB, ["ZONE-4"]),
    };

    [Theory]
    [MemberData(nameof(Plants))]
    public void A_wrong_value_in_the_shared_profile_data_is_noticed_by_the_suite(string plant)
    {
        var (profile, change, memory, rules) = PlantTable[plant];
        var result = SuiteRunner.Run(new PlantedFactory(plant, change), new SuiteOptions
        {
            Profiles = [profile],
            MemorySizes = [memory],
            Settings = new RunSettings { Seed = SuiteRuns.Seed, Sequences = 40, MaxSteps = 60 },
        });
        var failed = result.Properties.SelectMany(p => p.Failures).Select(f => f.RuleId).ToHashSet();
        Assert.True(failed.Count > 0 && failed.IsSubsetOf(rules),
            $"{plant}: expected failures among [{string.Join(", ", rules)}], got [{string.Join(", ", failed.Order())}]\n{SuiteRuns.Explain(result)}");
    }

    [Fact]
    public void The_unplanted_wrapper_passes()
    {
        var result = SuiteRuns.Run(new PlantedFactory("nothing", p => p), [Profiles.X86_32], [64 * MiB], 20);
        Assert.True(result.Failures.Count() == 0, SuiteRuns.Explain(result));
    }

    [Fact]
    public void An_implementation_reporting_another_profile_than_it_was_booted_with_is_a_setup_error()
    {
        var options = new SuiteOptions { Profiles = [Profiles.X86_32], MemorySizes = [64 * MiB], Settings = new RunSettings { Sequences = 1 } };
        var e = Assert.Throws<InvalidOperationException>(() => SuiteRunner.Run(new LyingFactory(), options));
        Assert.Contains("reports profile linux-2.4", e.Message);
    }

    private sealed class LyingFactory : IImplementationFactory
    {
        public string Name => "liar";
        public IMemoryManager? Create(Profile profile) => new PlantedKernel(Profiles.Linux2_4.WithMemory(profile.PhysicalMemory), profile);
    }

    // ---- No predicate lives in spec, and the checks call nothing that decides legality ---------

    /// <summary>
    /// Members of spec's public types that answer a yes/no, zone or class question, and are data:
    /// flags of a profile, handles, derived geometry kept for implementations and the protocol. A new
    /// one must be added here with its reason, or (if it decides legality) not be added to spec at all.
    /// </summary>
    private static readonly HashSet<string> DataAnswers =
    [
        "PageHandle.IsNull", "SlabCacheHandle.IsNull",
        "Profile.HasGfpBuffer", "Profile.HasSlabNoReap", "Profile.KmallocZeroReturnsZeroSizePtr",
        "Profile.KfreeAcceptsCacheObjects", "Profile.DestroyBusyLeaksCache", "Profile.VfreeDefersInInterrupt",
        // Geometry derived from DmaLimit/HighmemStart/PhysicalMemory for implementations and hello; the checks derive their own.
        "Profile.HasHighmem",
        // A declared choice (IKmalloc.KmallocInfo), data the suite reads from the implementation.
        "KmallocInfo.KreallocInPlace",
        // Profile flags (data, like HasGfpBuffer): what today's kernel does where the documents are silent:
        // MAP_SHARED|MAP_PRIVATE read as MAP_SHARED_VALIDATE (MMAP-4), remap_pfn_range rounding its size up (DRV-2).
        "Profile.MapSharedValidate", "Profile.RemapPfnRangeRoundsSize",
        // What the driver's mmap method received (IDriverMmap.LastMmap): data the implementation reports (DRV-1).
        "DriverVma.Shared",
        // Kernel VM (branch kvm, shared core e3df94e): a profile flag, the fault field of a translation read
        // as a bool, and the mode/direction of an Access enum value; none decides what a kernel allows.
        "Profile.VfreeDefersInInterrupt", "Translation.IsMapped", "Accesses.IsUser", "Accesses.IsWrite",
    ];

    [Fact]
    public void Spec_offers_no_legality_predicate()
    {
        var questionTypes = new[] { typeof(bool), typeof(Zone), typeof(IReadOnlyList<Zone>), typeof(long?), typeof(Zone?) };
        var found = typeof(Profile).Assembly.GetExportedTypes()
            .Where(t => !t.IsInterface && t.Namespace is "KernelMm.Spec.Contract" or "KernelMm.Spec.Profiles")
            .SelectMany(t => t.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Where(m => (m is MethodInfo mi && !mi.IsSpecialName && questionTypes.Contains(mi.ReturnType) && !mi.IsDefined(typeof(CompilerGeneratedAttribute)) && mi.Name is not "Equals")
                         || (m is PropertyInfo pi && questionTypes.Contains(pi.PropertyType)))
                .Select(m => $"{t.Name}.{m.Name}"))
            .ToHashSet();
        found.ExceptWith(DataAnswers);
        Assert.True(found.Count == 0, $"spec offers predicates both sides could share: {string.Join(", ", found.Order())}");
    }

    /// <summary>
    /// Spec members that both the checks and the reference may call: formatting and unit
    /// conversions, and the declared defaults (data by design). Anything else both call must go.
    /// </summary>
    private static readonly HashSet<string> SharedData =
    [
        "PageHandle.get_IsNull", "SlabCacheHandle.get_IsNull", "Gfp.Describe", "Zones.KernelName", "Profile.FormatSize", "Profile.get_Label", "Profile.WithMemory",
        "Profile.get_PageShift", "Profile.get_TotalPages",
        "ZoneInfo.Default", "KmallocInfo.Default", "ZoneWatermark.ProtectionAgainst",
    ];

    [Fact]
    public void The_checks_and_the_reference_call_no_common_spec_code_but_data()
    {
        var spec = typeof(Profile).Assembly;
        var checks = SpecCalls(typeof(SuiteRunner).Assembly, ns => ns.StartsWith("KernelMm.Conformance.Families") || ns.StartsWith("KernelMm.Conformance.Expectations"), spec);
        var reference = SpecCalls(typeof(ReferenceKernel).Assembly, _ => true, spec);
        Assert.NotEmpty(checks);
        var shared = checks.Intersect(reference).Except(SharedData).Order().ToList();
        Assert.True(shared.Count == 0, $"spec code both the checks and the reference call: {string.Join(", ", shared)}");
    }

    /// <summary>The spec methods (not auto-property getters, constructors or record plumbing) called from the selected types' IL.</summary>
    private static HashSet<string> SpecCalls(Assembly assembly, Func<string, bool> inNamespace, Assembly spec)
    {
        var calls = new HashSet<string>();
        foreach (var type in assembly.GetTypes().Where(t => t.Namespace is { } ns && inNamespace(ns)))
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                         .Cast<MethodBase>().Concat(type.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static)))
                foreach (var called in Il.CalledMethods(method))
                {
                    if (called.DeclaringType?.Assembly != spec || called is ConstructorInfo || called.IsDefined(typeof(CompilerGeneratedAttribute))) continue;
                    if (called.DeclaringType.IsInterface || called.DeclaringType.IsEnum) continue; // contract calls and enum values
                    calls.Add($"{called.DeclaringType.Name}.{called.Name}");
                }
        return calls;
    }

    /// <summary>A minimal IL reader: the methods a method body calls (call, callvirt, newobj, ldftn...).</summary>
    private static class Il
    {
        private static readonly OpCode[] OneByte = new OpCode[256], TwoByte = new OpCode[256];

        static Il()
        {
            foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                var op = (OpCode)field.GetValue(null)!;
                if (op.Size == 1) OneByte[op.Value & 0xff] = op; else TwoByte[op.Value & 0xff] = op;
            }
        }

        public static IEnumerable<MethodBase> CalledMethods(MethodBase method)
        {
            byte[]? il;
            try { il = method.GetMethodBody()?.GetILAsByteArray(); } catch { il = null; }
            if (il is null) yield break;
            for (int i = 0; i < il.Length;)
            {
                var op = il[i] == 0xFE ? TwoByte[il[i + 1]] : OneByte[il[i]];
                i += il[i] == 0xFE ? 2 : 1;
                int operand = op.OperandType switch
                {
                    OperandType.InlineNone => 0,
                    OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                    OperandType.InlineVar => 2,
                    OperandType.InlineI8 or OperandType.InlineR => 8,
                    OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                    _ => 4,
                };
                if (op.OperandType == OperandType.InlineMethod)
                {
                    MethodBase? target = null;
                    try
                    {
                        target = method.Module.ResolveMethod(BitConverter.ToInt32(il, i),
                            method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null,
                            method.IsGenericMethod ? method.GetGenericArguments() : null);
                    }
                    catch (ArgumentException) { }
                    if (target is not null) yield return target;
                }
                i += operand;
            }
        }
    }
}
