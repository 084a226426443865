using KernelMm.Conformance.Checking;
using KernelMm.Conformance.Families.Heap;
using KernelMm.Conformance.Families.Pages;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Tests.HeapVariants;
using KernelMm.Tests.Variants;

namespace KernelMm.Tests.LinuxLike;

/// <summary>
/// Issue 7, section 5: each false alarm the suite once raised against a Linux-faithful
/// implementation, replayed as the sequence that raised it. The Linux-like implementation declares
/// its values and passes; an implementation that breaks what it declares is still caught with the rule.
/// </summary>
public class DeclaredValueTests
{
    private const ulong MiB = 1 << 20, GiB = 1 << 30;

    /// <summary>Runs one sequence through the suite's checks; the first violated rule and its message, or null.</summary>
    internal static RuleViolation? Run<TOp>(ConformanceFamily<TOp> family, IImplementationFactory factory, Profile profile, params TOp[] ops) where TOp : notnull
    {
        using var mm = factory.Create(profile)!;
        try
        {
            family.Execute(mm, ops, new CheckScope(), new Trace());
            return null;
        }
        catch (RuleViolation v) { return v; }
    }

    private static void Passes<TOp>(ConformanceFamily<TOp> family, Profile profile, params TOp[] ops) where TOp : notnull
    {
        var violation = Run(family, new LinuxLikeFactory(), profile, ops);
        Assert.True(violation is null, violation?.Message);
    }

    [Fact]
    public void LinuxLike_declares_Linux_values_not_the_profile_defaults()
    {
        using var mm = new LinuxLikeFactory().Create(Profiles.X86_32.WithMemory(2 * GiB))!;
        var zones = ((IPageAllocator)mm).ZoneInfo()!;
        Assert.Equal(WatermarkScope.PerZone, zones.Scope);
        var dma = zones.Zones[(int)Zone.Dma];
        Assert.True(dma.AtomicMin > 0 && dma.AtomicMin < dma.Min, $"DMA min {dma.Min}, atomic {dma.AtomicMin}");
        Assert.True(dma.ProtectionAgainst(Zone.HighMem) > dma.ProtectionAgainst(Zone.Normal) && dma.ProtectionAgainst(Zone.Normal) > 0);
        var kmalloc = ((IKmalloc)mm).KmallocInfo()!;
        Assert.Equal([8L, 16, 32, 64, 96, 128, 192, 256], kmalloc.Classes.Take(8));
        Assert.Equal(KmallocZero.SmallestObject, kmalloc.ZeroSize);
        Assert.True(kmalloc.KreallocInPlace);
    }

    [Fact]
    public void Gfp3_a_request_without_reserve_access_keeps_each_zone_min_not_one_pooled_reserve()
    {
        // Once: "(no reserve access) left 32 free pages in its zones, below the emergency reserve of 64".
        // GFP_KERNEL|GFP_DMA stops at ZONE_DMA's own min, far below the profile's pooled 2048 pages.
        Passes(new PageFamily(), Profiles.X86_32.WithMemory(2 * GiB), new PageOp(PageOpKind.Exhaust, Gfp.Kernel | GfpFlags.Dma));
    }

    [Fact]
    public void Gfp3_atomic_may_fail_before_taking_every_free_page()
    {
        // Once: "GFP_ATOMIC ... returned NULL although zone Normal had a free order-10 block (GFP_ATOMIC may use every free page)".
        Passes(new PageFamily(), Profiles.X86_32.WithMemory(64 * MiB), new PageOp(PageOpKind.Exhaust, Gfp.Atomic));
    }

    [Fact]
    public void Gfp4_a_kernel_request_falling_back_to_dma_respects_lowmem_reserve()
    {
        // Once: "GFP_KERNEL returned NULL although zone DMA has a free order-7 block above the reserve".
        Passes(new PageFamily(), Profiles.X86_32.WithMemory(64 * MiB),
            new PageOp(PageOpKind.FillPageCache, Arg: 64), new PageOp(PageOpKind.Exhaust, Gfp.Kernel), new PageOp(PageOpKind.FreeAll));
    }

    [Fact]
    public void Page8_counts_only_the_max_order_blocks_the_declared_floors_let_GFP_ATOMIC_take()
    {
        Passes(new PageFamily(), Profiles.X86_32.WithMemory(64 * MiB), new PageOp(PageOpKind.FreeAll));
        Passes(new PageFamily(), Profiles.Linux2_4.WithMemory(1 * GiB), new PageOp(PageOpKind.FreeAll));
    }

    [Fact]
    public void Kmal1_krealloc_in_place_keeps_the_object_whatever_the_new_flags()
    {
        // Once: "krealloc(k1, 134, GFP_KERNEL|GFP_DMA): a GFP_DMA object ends above MAX_DMA_ADDRESS".
        Passes(new HeapFamily(), Profiles.X86_32.WithMemory(64 * MiB),
            new HeapOp(HeapOpKind.Kmalloc, Gfp.Kernel, 130), new HeapOp(HeapOpKind.Krealloc, Gfp.Kernel | GfpFlags.Dma, 134));
    }

    [Fact]
    public void Kmal2_the_class_table_is_the_declared_one()
    {
        // Once: "kmalloc(9): ksize = 16, but on x86-32 a 9-byte request is served by the 32-byte size class".
        Passes(new HeapFamily(), Profiles.X86_32.WithMemory(64 * MiB), new HeapOp(HeapOpKind.Kmalloc, Gfp.Kernel, 9), new HeapOp(HeapOpKind.Kmalloc, Gfp.Kernel, 96));
    }

    [Fact]
    public void Kmal1_and_Kmal6_kmalloc_zero_gives_an_object_and_kfree_of_0x10_may_be_refused_on_old_profiles()
    {
        foreach (var profile in new[] { Profiles.X86_32, Profiles.Linux2_4, Profiles.Bit64_8K })
            Passes(new HeapFamily(), profile.WithMemory(64 * MiB),
                new HeapOp(HeapOpKind.Kmalloc, Gfp.Kernel, 0), new HeapOp(HeapOpKind.Kfree, Slot: 0, Arg: 11), new HeapOp(HeapOpKind.Kfree, Slot: 0, Arg: 1));
        Passes(new HeapFamily(), Profiles.Linux6.WithMemory(64 * MiB), new HeapOp(HeapOpKind.Kmalloc, Gfp.Kernel, 0), new HeapOp(HeapOpKind.Kfree, Slot: 0, Arg: 11));
    }

    [Fact]
    public void What_an_implementation_declares_binds_it()
    {
        // Declared lowmem_reserve that is not kept: GFP-3.
        var v = Run(new PageFamily(), new TreeFactory(Fault.ProtectionIgnored, linuxWatermarks: true), Profiles.X86_32.WithMemory(64 * MiB),
            new PageOp(PageOpKind.Exhaust, Gfp.Kernel));
        Assert.Equal("GFP-3", v?.RuleId);
        // Declared in-place krealloc that moves anyway: KMAL-5.
        var profileChoices = HeapChoices.ProfileDefault(Profiles.X86_32);
        var moves = new DeclaringHeapFactory(profileChoices with { DeclaredAs = profileChoices.Declare() with { KreallocInPlace = true } });
        v = Run(new HeapFamily(), moves, Profiles.X86_32.WithMemory(64 * MiB),
            new HeapOp(HeapOpKind.Kmalloc, Gfp.Kernel, 100), new HeapOp(HeapOpKind.Krealloc, Gfp.Kernel | GfpFlags.Dma, 110));
        Assert.Equal("KMAL-5", v?.RuleId);
        // A class table the documents do not allow (a 100-byte class): KMAL-2 at boot.
        var odd = new DeclaringHeapFactory(HeapChoices.Slub(Profiles.X86_32) with { Classes = [8, 16, 32, 64, 100, 128, 256, 512, 1024, 2048, 4096, 8192] });
        v = Run(new HeapFamily(), odd, Profiles.X86_32.WithMemory(64 * MiB), new HeapOp(HeapOpKind.Kmalloc, Gfp.Kernel, 9));
        Assert.Equal("KMAL-2", v?.RuleId);
        // ZERO_SIZE_PTR declared where it does not exist: KMAL-1 at boot.
        var zsp = new DeclaringHeapFactory(HeapChoices.ProfileDefault(Profiles.X86_32) with { ZeroSize = KmallocZero.ZeroSizePtr });
        v = Run(new HeapFamily(), zsp, Profiles.X86_32.WithMemory(64 * MiB), new HeapOp(HeapOpKind.Kmalloc, Gfp.Kernel, 9));
        Assert.Equal("KMAL-1", v?.RuleId);
    }

    /// <summary>The list heap with the given kmalloc choices (for one profile), declaring them.</summary>
    private sealed class DeclaringHeapFactory(HeapChoices choices) : IImplementationFactory
    {
        public string Name => "list-heap/declared";
        public IMemoryManager? Create(Profile profile) => new ListHeapKernel(profile, HeapFault.None, choices);
    }
}
