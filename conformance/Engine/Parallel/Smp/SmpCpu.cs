using KernelMm.Conformance.Checking;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using static KernelMm.Conformance.Families.Shared.Calls;

namespace KernelMm.Conformance.Parallel.Smp;

/// <summary>What kind of memory a block is, and so which rule its overlap or lost bytes break.</summary>
internal enum BlockKind { Pages, Kmalloc, CacheObject }

/// <summary>One block a CPU holds, the bytes it wrote into it, and when it held it (tickets).</summary>
internal sealed class HeldBlock
{
    public required string Name { get; init; }
    public required string Call { get; init; }
    public required int Cpu { get; init; }
    public required BlockKind Kind { get; init; }
    public required ulong Addr { get; init; }
    public required long Length { get; init; }
    public PageHandle Page { get; init; }
    public int Order { get; init; }
    public int Cache { get; init; }
    public required int Tag { get; init; }
    /// <summary>Ticket taken after the allocation returned: the block was the CPU's from before it.</summary>
    public required long Claim { get; init; }
    /// <summary>Ticket taken before the free was called: the block was the CPU's until after it. MaxValue while held.</summary>
    public long Release { get; set; } = long.MaxValue;

    public string Rule => Kind switch { BlockKind.Pages => "PAGE-1", BlockKind.Kmalloc => "KMAL-7", _ => "SLAB-2" };
    public string Describe() => $"CPU{Cpu}'s {Name} = {Call} = [0x{Addr:x}, +{Length})";
}

/// <summary>What every CPU shares: the contract, the caches the prefix made, the ticket clock.</summary>
internal sealed class SmpMachine(Profile profile, IPageAllocator pages, IKernelMemory memory, IKmalloc? kmalloc, ISlab? slab,
    IReadOnlyList<(SlabCacheHandle Handle, int Size, int Align)?> caches, History clock, bool explain)
{
    public Profile Profile { get; } = profile;
    public IPageAllocator Pages { get; } = pages;
    public IKernelMemory Memory { get; } = memory;
    public IKmalloc? Kmalloc { get; } = kmalloc;
    public ISlab? Slab { get; } = slab;
    public IReadOnlyList<(SlabCacheHandle Handle, int Size, int Align)?> Caches { get; } = caches;
    public History Clock { get; } = clock;
    public bool Explain { get; } = explain;
    /// <summary>The suite's own derivation of the direct mapping (never the implementation's).</summary>
    public Expectations.PhysicalLayout Layout { get; } = new(profile);
    public int Stop;
}

/// <summary>
/// One CPU of SMP traffic: runs its branch through the contract, checks each block it gets (size,
/// alignment, zone), writes its own bytes into it, checks them before it frees the block, and frees
/// everything at its end. The first failed check stops it; the family picks the earliest over all CPUs.
/// </summary>
internal sealed class SmpCpu(int cpu, SmpMachine m, CheckScope scope)
{
    private const int Sample = 16;
    private readonly List<HeldBlock> _held = [];
    private int _names;

    public int Cpu { get; } = cpu;
    public CheckScope Scope { get; } = scope;
    /// <summary>Every block this CPU held, with its tickets (for the overlap check after the join).</summary>
    public List<HeldBlock> Blocks { get; } = [];
    /// <summary>Every call this CPU made, recorded cheaply (texts are made only when a failure is drawn).</summary>
    private readonly List<(string Name, SmpOp Op, HeldBlock? Block, ulong Result, Exception? Error, long Start, long End)> _calls = new(256);

    public IEnumerable<TimedCall> Calls => _calls.Select(c => new TimedCall(Cpu,
        c.Block is { } b && !c.Op.Allocates ? FreeCall(b) : $"{c.Name} = {c.Op}",
        c.Error is not null ? Describe(c.Error) : c.Op.Allocates ? (c.Result == 0 ? "NULL" : $"0x{c.Result:x}") : "",
        c.Start, c.End));
    public (long Ticket, RuleViolation Violation)? Failure { get; private set; }
    /// <summary>A masked rule's check failed on this CPU: the run gives no verdict (the scope marks it, see CheckScope).</summary>
    public bool Diverged => Scope.DivergedAt is not null;

    public void Run(IReadOnlyList<ParallelStep<SmpOp>> steps)
    {
        try
        {
            foreach (var step in steps)
            {
                if (Volatile.Read(ref m.Stop) != 0) return;
                if (step.Pause > 0) Thread.SpinWait(step.Pause);
                else if (step.Pause == ParallelStep<SmpOp>.Yield) Thread.Yield();
                Do(step.Op);
                if (Diverged) { Volatile.Write(ref m.Stop, 1); return; }
            }
            while (_held.Count > 0 && Volatile.Read(ref m.Stop) == 0 && !Diverged) Free(_held[^1]);
        }
        catch (RuleViolation v)
        {
            Failure = (m.Clock.Tick(), v);
            Volatile.Write(ref m.Stop, 1);
        }
        catch (SequenceStopped)
        {
            // A failed call charged to a masked rule: the run gives no verdict.
            Stopped = true;
            Volatile.Write(ref m.Stop, 1);
        }
    }

    /// <summary>A failed call was charged to a masked rule on this CPU (the run gives no verdict).</summary>
    public bool Stopped { get; private set; }

    private void Do(SmpOp op)
    {
        switch (op.Kind)
        {
            case SmpOpKind.GetFreePages or SmpOpKind.AllocPages: AllocPages(op); break;
            case SmpOpKind.Kmalloc or SmpOpKind.Kzalloc: Kmalloc(op); break;
            case SmpOpKind.CacheAlloc: CacheAlloc(op); break;
            case SmpOpKind.FreePages: FreeOne(BlockKind.Pages, op.Slot); break;
            case SmpOpKind.Kfree: FreeOne(BlockKind.Kmalloc, op.Slot); break;
            case SmpOpKind.CacheFree: FreeOne(BlockKind.CacheObject, op.Slot); break;
            case SmpOpKind.Verify: foreach (var b in _held) Check(b, "a check of the blocks held"); break;
        }
    }

    private long Tick() => m.Clock.Tick();

    private void Record(string name, SmpOp op, HeldBlock? block, ulong result, Exception? error, long start, long end) =>
        _calls.Add((name, op, block, result, error, start, end));

    private static string FreeCall(HeldBlock b) => b.Kind switch
    {
        BlockKind.Pages => b.Page.IsNull ? $"free_pages({b.Name}, {b.Order})" : $"__free_pages({b.Name}, {b.Order})",
        BlockKind.Kmalloc => $"kfree({b.Name})",
        _ => $"kmem_cache_free(smp{b.Cache}, {b.Name})",
    };

    private void Raised(string rule, string call, Exception e) =>
        Scope.Fail(rule, $"{call} on CPU{Cpu} raised {Describe(e)} while other CPUs were calling the allocators too; a valid call must not fail this way");

    // ---- Allocation ----------------------------------------------------------------------------

    private void AllocPages(SmpOp op)
    {
        Scope.Operations++;
        var p = m.Profile;
        string name = $"c{Cpu}p{++_names}", call = op.ToString();
        ulong addr = 0;
        PageHandle page = PageHandle.Null;
        long start = Tick();
        var e = Try(() =>
        {
            if (op.Kind == SmpOpKind.AllocPages) page = m.Pages.AllocPages(op.Gfp, op.Order);
            else addr = m.Pages.GetFreePages(op.Gfp, op.Order);
        });
        long claim = Tick();
        if (e is not null) { Record(name, op, null, 0, e, start, claim); Raised("PAGE-1", call, e); }
        if (op.Kind == SmpOpKind.AllocPages)
        {
            if (page.IsNull) { Record(name, op, null, 0, null, start, claim); return; }
            var zone = m.Pages.PageZone(page);
            Scope.That("ZONE-3", zone != Zone.HighMem, () => $"{call} on CPU{Cpu} returned a HIGHMEM page ({page}); the flags do not allow __GFP_HIGHMEM");
            addr = m.Pages.PageAddress(page);
        }
        Record(name, op, null, addr, null, start, claim);
        if (addr == 0) return;

        long length = (long)p.PageSize << op.Order;
        Scope.That("ZONE-3", m.Layout.IsDirectMapped(addr) && m.Layout.IsDirectMapped(addr + (ulong)length - 1),
            () => $"{call} on CPU{Cpu} returned 0x{addr:x}, not direct-mapped low memory");
        ulong pa = m.Pages.VirtToPhys(addr);
        ulong pfn = pa >> p.PageShift;
        Scope.That("PAGE-7", addr % (ulong)p.PageSize == 0 && pfn % (1UL << op.Order) == 0,
            () => $"{call} on CPU{Cpu} returned 0x{addr:x} (pfn 0x{pfn:x}): an order-{op.Order} block must be page aligned and start at a multiple of {1 << op.Order} frames");
        if ((op.Gfp & GfpFlags.Dma) != 0)
            Scope.That("ZONE-2", pa + (ulong)length <= p.DmaLimit,
                () => $"{call} on CPU{Cpu} returned [PA 0x{pa:x}, +0x{length:x}), which ends above MAX_DMA_ADDRESS 0x{p.DmaLimit:x}");
        Hold(new HeldBlock { Name = name, Call = call, Cpu = Cpu, Kind = BlockKind.Pages, Addr = addr, Length = length, Page = page, Order = op.Order, Tag = _names, Claim = claim });
    }

    private void Kmalloc(SmpOp op)
    {
        if (m.Kmalloc is null) return;
        Scope.Operations++;
        var p = m.Profile;
        string name = $"c{Cpu}k{++_names}", call = op.ToString();
        ulong addr = 0;
        long start = Tick();
        var e = Try(() => addr = op.Kind == SmpOpKind.Kzalloc ? m.Kmalloc.Kzalloc(op.Size, op.Gfp) : m.Kmalloc.Kmalloc(op.Size, op.Gfp));
        long claim = Tick();
        Record(name, op, null, addr, e, start, claim);
        if (e is not null) Raised("KMAL-7", call, e);
        if (addr == 0) return;
        Scope.That("KMAL-1", m.Layout.IsDirectMapped(addr) && m.Layout.IsDirectMapped(addr + (ulong)op.Size - 1),
            () => $"{call} on CPU{Cpu} returned 0x{addr:x}: [0x{addr:x}, +{op.Size}) is not direct-mapped low memory");
        long usable = 0;
        var ke = Try(() => usable = m.Kmalloc.Ksize(addr));
        Scope.That("KMAL-1", ke is null && usable >= op.Size, () => $"ksize(0x{addr:x}) on CPU{Cpu} after {call}: {(ke is null ? usable.ToString() : Describe(ke))}, less than the {op.Size} bytes asked for");
        if ((op.Gfp & GfpFlags.Dma) != 0)
        {
            ulong pa = m.Pages.VirtToPhys(addr);
            Scope.That("ZONE-2", pa + (ulong)op.Size <= p.DmaLimit, () => $"{call} on CPU{Cpu} returned PA 0x{pa:x}, whose {op.Size} bytes end above MAX_DMA_ADDRESS 0x{p.DmaLimit:x}");
        }
        Hold(new HeldBlock { Name = name, Call = call, Cpu = Cpu, Kind = BlockKind.Kmalloc, Addr = addr, Length = op.Size, Tag = _names, Claim = claim });
    }

    private void CacheAlloc(SmpOp op)
    {
        if (m.Slab is null || op.Cache >= m.Caches.Count || m.Caches[op.Cache] is not { } cache) return;
        Scope.Operations++;
        var p = m.Profile;
        string name = $"c{Cpu}o{++_names}", call = op.ToString();
        ulong addr = 0;
        long start = Tick();
        var e = Try(() => addr = m.Slab.KmemCacheAlloc(cache.Handle, op.Gfp));
        long claim = Tick();
        Record(name, op, null, addr, e, start, claim);
        if (e is not null) Raised("SLAB-2", call, e);
        if (addr == 0) return;
        Scope.That("SLAB-2", m.Layout.IsDirectMapped(addr) && m.Layout.IsDirectMapped(addr + (ulong)cache.Size - 1),
            () => $"{call} on CPU{Cpu} returned 0x{addr:x}: its {cache.Size} bytes are not direct-mapped low memory");
        long align = Math.Max(cache.Align, 1);
        Scope.That("SLAB-7", addr % (ulong)align == 0, () => $"{call} on CPU{Cpu} returned 0x{addr:x}, not aligned to the {align} bytes the cache was created with");
        Hold(new HeldBlock { Name = name, Call = call, Cpu = Cpu, Kind = BlockKind.CacheObject, Addr = addr, Length = cache.Size, Cache = op.Cache, Tag = _names, Claim = claim });
    }

    private void Hold(HeldBlock block)
    {
        Write(block);
        _held.Add(block);
        Blocks.Add(block);
    }

    // ---- Bytes ---------------------------------------------------------------------------------

    /// <summary>The regions a block's owner writes and checks: its head and tail, and the head of every page.</summary>
    private IEnumerable<(long Offset, int Length)> Regions(HeldBlock b)
    {
        int head = (int)Math.Min(Sample, b.Length);
        yield return (0, head);
        if (b.Length > head) yield return (b.Length - Math.Min(Sample, b.Length - head), (int)Math.Min(Sample, b.Length - head));
        if (b.Kind == BlockKind.Pages)
            for (long page = 1; page < Math.Min(b.Length / m.Profile.PageSize, 8); page++)
                yield return (page * m.Profile.PageSize, 8);
    }

    private static byte[] Pattern(HeldBlock b, long offset, int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++) bytes[i] = (byte)(b.Tag * 31 + b.Cpu * 101 + (offset + i) * 7 + 1);
        return bytes;
    }

    private void Write(HeldBlock b)
    {
        foreach (var (offset, length) in Regions(b))
        {
            var e = Try(() => m.Memory.Write(b.Addr + (ulong)offset, Pattern(b, offset, length)));
            if (e is not null) Scope.Fail(b.Rule, $"writing into {b.Describe()} at +{offset} on CPU{Cpu}: {Describe(e)}");
        }
    }

    private void Check(HeldBlock b, string when)
    {
        foreach (var (offset, length) in Regions(b))
        {
            var expected = Pattern(b, offset, length);
            var actual = new byte[length];
            var e = Try(() => m.Memory.Read(b.Addr + (ulong)offset, actual));
            int diff = e is null ? actual.AsSpan().CommonPrefixLength(expected) : 0;
            Scope.That(b.Rule, e is null && diff == length, () => e is not null
                ? $"reading {b.Describe()} at +{offset} on CPU{Cpu}: {Describe(e)}"
                : $"{b.Describe()}: byte +{offset + diff} was changed by someone else before {when}: CPU{Cpu} wrote 0x{expected[diff]:x2}, reads 0x{actual[diff]:x2}");
        }
    }

    // ---- Free ----------------------------------------------------------------------------------

    private void FreeOne(BlockKind kind, int slot)
    {
        HeldBlock? pick = null;
        int count = _held.Count(b => b.Kind == kind);
        if (count == 0) return;
        int n = slot % count;
        foreach (var b in _held)
            if (b.Kind == kind && n-- == 0) { pick = b; break; }
        Free(pick!);
    }

    private void Free(HeldBlock b)
    {
        Scope.Operations++;
        Check(b, "its free");
        _held.Remove(b);
        b.Release = Tick();
        var e = Try(() =>
        {
            switch (b.Kind)
            {
                case BlockKind.Pages when b.Page.IsNull: m.Pages.FreePages(b.Addr, b.Order); break;
                case BlockKind.Pages: m.Pages.FreePagesOf(b.Page, b.Order); break;
                case BlockKind.Kmalloc: m.Kmalloc!.Kfree(b.Addr); break;
                default: m.Slab!.KmemCacheFree(m.Caches[b.Cache]!.Value.Handle, b.Addr); break;
            }
        });
        Record(b.Name, new SmpOp(SmpOpKind.Verify), b, 0, e, b.Release, Tick());
        if (e is not null)
        {
            b.Release = long.MaxValue; // still ours as far as anyone can tell
            Raised(b.Rule, FreeCall(b), e);
        }
    }
}
