using FsCheck;
using FsCheck.Fluent;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Hostile;

/// <summary>
/// Generated garbage through every contract call of the reference: extreme and undefined values
/// (negative and huge sizes, orders and alignments, undefined zones and flags, addresses near 0 and
/// near the top of the address space, stale and foreign handles) mixed with real results. Every
/// call either succeeds or raises one of the contract's typed errors, and a refused call leaves the
/// observable state (buddyinfo, page cache, context, slab caches) exactly as it was.
/// </summary>
public sealed class ContractFuzzTests
{
    private static readonly Profile[] Machines =
    [
        Profiles.X86_32.WithMemory(64UL << 20),
        Profiles.Get("64-bit-8k").WithMemory(64UL << 20),
        Profiles.Get("linux-6").WithMemory(64UL << 20),
    ];

    /// <summary>One hostile call: which member, and raw material for its arguments.</summary>
    public sealed record Call(int Member, long A, long B, long C, int Pick)
    {
        public override string ToString() => $"#{Member}({A}, {B}, {C}, pick {Pick})";
    }

    private const int Members = 34;

    private static Gen<long> Extreme() => Gen.OneOf(
        Gen.Elements(0L, 1L, -1L, 2L, 3L, 7L, 8L, 15L, 16L, 64L, 4095L, 4096L, 4097L, 1L << 20, 1L << 22, 1L << 30, 1L << 31,
            (1L << 31) - 1, 1L << 32, 1L << 40, 1L << 62, long.MaxValue, long.MinValue, int.MaxValue, int.MinValue,
            0xC000_0000L, 0xC000_1000L, 0xC100_0000L, unchecked((long)0xFFFF_8800_0000_0000UL), unchecked((long)0xFFFF_FFFF_FFFF_F000UL)),
        Gen.Choose(-64, 64).Select(i => (long)i),
        Gen.Choose(0, int.MaxValue).Select(i => (long)i),
        Gen.Choose(int.MinValue, int.MaxValue).Select(i => (long)i << Math.Abs(i % 33)));

    private static Arbitrary<Call[]> Calls() =>
        (from member in Gen.Choose(0, Members - 1)
         from a in Extreme()
         from b in Extreme()
         from c in Extreme()
         from pick in Gen.Choose(0, 1000)
         select new Call(member, a, b, c, pick)).ArrayOf().Select(a => a.Take(60).ToArray()).ToArbitrary();

    [Fact]
    public void HostileCalls_RaiseOnlyTypedErrors_AndRefusedCallsChangeNothing()
    {
        var property = Prop.ForAll(Calls(), Gen.Choose(0, Machines.Length - 1).ToArbitrary(), (Call[] calls, int machine) =>
        {
            using var mm = new ReferenceKernel(Machines[machine]);
            var live = new LiveObjects();
            foreach (var call in calls)
            {
                var before = Snapshot.Of(mm);
                Exception? e = null;
                try { Apply(mm, call, live); }
                catch (Exception ex) { e = ex; }
                if (e is null) continue;
                if (e is not KernelApiException)
                    throw new Exception($"{Describe(call)} raised {e.GetType().Name}, not a contract error: {e.Message}", e);
                var after = Snapshot.Of(mm);
                if (before != after)
                    throw new Exception($"{Describe(call)} was refused ({e.Message}) but changed the machine:\n before {before}\n after  {after}");
            }
            return true;
        });
        property.Check(Config.QuickThrowOnFailure.WithMaxTest(150).WithReplay(20260101UL, 0x9E3779B97F4A7C15UL));
    }

    private static string Describe(Call call) => $"call {call} ({MemberName(call.Member)})";

    private static string MemberName(int m) => m switch
    {
        0 => "GetFreePages", 1 => "GetZeroedPage", 2 => "AllocPages", 3 => "FreePages", 4 => "FreePagesOf", 5 => "PageToPfn",
        6 => "PfnToPage", 7 => "PageAddress", 8 => "PageZone", 9 => "VirtToPhys", 10 => "FreeBlocks", 11 => "DrainCaches",
        12 => "Read", 13 => "Write", 14 => "Kmap", 15 => "Kunmap", 16 => "KmapAtomic", 17 => "KunmapAtomic",
        18 => "FillPageCache", 19 => "ReclaimablePages", 20 => "DropPageCache", 21 => "Kmalloc", 22 => "Kzalloc", 23 => "Krealloc",
        24 => "Kfree", 25 => "Ksize", 26 => "KmemCacheCreate", 27 => "KmemCacheAlloc", 28 => "KmemCacheFree", 29 => "KmemCacheShrink",
        30 => "KmemCacheDestroy", 31 => "ReapCaches", 32 => "Preempt/irq", _ => "SlabInfo",
    };

    /// <summary>Results of earlier calls, so that hostile calls also hit real objects, off by a little.</summary>
    private sealed class LiveObjects
    {
        public readonly List<ulong> Addresses = [];
        public readonly List<PageHandle> Pages = [];
        public readonly List<SlabCacheHandle> Caches = [];

        public ulong Address(Call c, long raw) =>
            Addresses.Count > 0 && c.Pick % 3 != 0 ? Addresses[c.Pick % Addresses.Count] + (ulong)(c.Pick % 5 == 0 ? raw % 64 : 0) : (ulong)raw;

        public PageHandle Page(Call c, long raw) =>
            Pages.Count > 0 && c.Pick % 3 != 0 ? new PageHandle(Pages[c.Pick % Pages.Count].Value + (ulong)(c.Pick % 5 == 0 ? raw % 4 : 0)) : new PageHandle((ulong)raw);

        public SlabCacheHandle Cache(Call c, long raw) =>
            Caches.Count > 0 && c.Pick % 3 != 0 ? Caches[c.Pick % Caches.Count] : new SlabCacheHandle((ulong)raw);
    }

    private static GfpFlags Flags(long raw, int pick) => pick % 4 == 0 ? (GfpFlags)(uint)raw : (pick % 4) switch
    {
        1 => Gfp.Kernel,
        2 => Gfp.Atomic,
        _ => Gfp.Kernel | GfpFlags.Dma,
    };

    private static void Apply(ReferenceKernel mm, Call c, LiveObjects live)
    {
        int order = (int)c.B;
        switch (c.Member)
        {
            case 0: Keep(live.Addresses, mm.GetFreePages(Flags(c.A, c.Pick), (int)Math.Clamp(c.B, -2, 12))); break;
            case 1: Keep(live.Addresses, mm.GetZeroedPage(Flags(c.A, c.Pick))); break;
            case 2: { var p = mm.AllocPages(Flags(c.A, c.Pick), c.Pick % 2 == 0 ? (int)Math.Clamp(c.B, -2, 12) : order); if (!p.IsNull) live.Pages.Add(p); break; }
            case 3: mm.FreePages(live.Address(c, c.A), c.Pick % 2 == 0 ? (int)Math.Clamp(c.B, -1, 11) : order); break;
            case 4: mm.FreePagesOf(live.Page(c, c.A), c.Pick % 2 == 0 ? (int)Math.Clamp(c.B, -1, 11) : order); break;
            case 5: mm.PageToPfn(live.Page(c, c.A)); break;
            case 6: mm.PfnToPage((ulong)c.A); break;
            case 7: mm.PageAddress(live.Page(c, c.A)); break;
            case 8: mm.PageZone(live.Page(c, c.A)); break;
            case 9: mm.VirtToPhys(live.Address(c, c.A)); break;
            case 10: mm.FreeBlocks((Zone)(int)(c.Pick % 2 == 0 ? c.A % 5 : c.A), c.Pick % 3 == 0 ? (int)(c.B % 13) : order); break;
            case 11: mm.DrainCaches(); break;
            case 12: mm.Read(live.Address(c, c.A), new byte[(int)Math.Clamp(Math.Abs(c.B % 20000), 0, 20000)]); break;
            case 13: mm.Write(live.Address(c, c.A), new byte[(int)Math.Clamp(Math.Abs(c.B % 20000), 0, 20000)]); break;
            case 14: mm.Kmap(live.Page(c, c.A)); break;
            case 15: mm.Kunmap(live.Page(c, c.A)); break;
            case 16: Keep(live.Addresses, mm.KmapAtomic(live.Page(c, c.A))); break;
            case 17: mm.KunmapAtomic(live.Address(c, c.A)); break;
            case 18: mm.FillPageCache(c.Pick % 2 == 0 ? (int)Math.Clamp(c.A, -5, 200) : (int)c.A); break;
            case 19: mm.ReclaimablePages((Zone)(int)(c.Pick % 2 == 0 ? c.A % 5 : c.A)); break;
            case 20: mm.DropPageCache(); break;
            case 21: Keep(live.Addresses, mm.Kmalloc(c.Pick % 2 == 0 ? c.A % 10000 : c.A, Flags(c.B, c.Pick))); break;
            case 22: Keep(live.Addresses, mm.Kzalloc(c.Pick % 2 == 0 ? c.A % 10000 : c.A, Flags(c.B, c.Pick))); break;
            case 23: Keep(live.Addresses, mm.Krealloc(live.Address(c, c.C), c.Pick % 2 == 0 ? c.A % 10000 : c.A, Flags(c.B, c.Pick))); break;
            case 24: mm.Kfree(live.Address(c, c.A)); break;
            case 25: mm.Ksize(live.Address(c, c.A)); break;
            case 26:
            {
                string? name = (c.Pick % 7) switch { 0 => null, 1 => "", 2 => new string('n', 300), _ => $"fuzz{c.Pick}" };
                var flags = (SlabFlags)(uint)(c.Pick % 2 == 0 ? c.C & 0x7f0f : c.C);
                var h = mm.KmemCacheCreate(name!, c.Pick % 3 == 0 ? c.A : c.A % 5000, c.Pick % 4 == 0 ? c.B : 1L << (int)((ulong)c.B % 64), flags, c.Pick % 2 == 0 ? null : (byte)c.Pick);
                if (!h.IsNull) live.Caches.Add(h);
                break;
            }
            case 27: Keep(live.Addresses, mm.KmemCacheAlloc(live.Cache(c, c.A), Flags(c.B, c.Pick))); break;
            case 28: mm.KmemCacheFree(live.Cache(c, c.A), live.Address(c, c.B)); break;
            case 29: mm.KmemCacheShrink(live.Cache(c, c.A)); break;
            case 30: mm.KmemCacheDestroy(live.Cache(c, c.A)); break;
            case 31: mm.ReapCaches(); break;
            case 32:
                switch (c.Pick % 4)
                {
                    case 0: mm.PreemptDisable(); break;
                    case 1: mm.PreemptEnable(); break;
                    case 2: mm.IrqEnter(); break;
                    default: mm.IrqExit(); break;
                }
                break;
            default: mm.SlabInfo(); break;
        }
    }

    private static void Keep(List<ulong> list, ulong value)
    {
        if (value != 0) list.Add(value);
    }

    /// <summary>What a caller can observe without changing anything.</summary>
    private sealed record Snapshot(string Buddy, string Cache, bool Atomic, bool Interrupt, string Slabs)
    {
        public static Snapshot Of(ReferenceKernel mm)
        {
            var buddy = string.Join(" ", Zones.All.Select(z => string.Join(",", Enumerable.Range(0, mm.Profile.MaxOrder + 1).Select(o => mm.FreeBlocks(z, o)))));
            var cache = string.Join(",", Zones.All.Select(mm.ReclaimablePages));
            var slabs = string.Join(";", mm.SlabInfo().Select(s => $"{s.Name}:{s.ActiveObjects}/{s.TotalObjects}"));
            return new Snapshot(buddy, cache, mm.InAtomic, mm.InInterrupt, slabs);
        }
    }
}
