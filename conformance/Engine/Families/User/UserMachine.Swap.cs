using KernelMm.Conformance.Expectations;
using KernelMm.Spec.Contract;
using static KernelMm.Conformance.Families.Shared.Calls;

namespace KernelMm.Conformance.Families.User;

/// <summary>
/// Swapping (SWAP-1), memory pressure that makes sleeping kernel allocations swap user pages out
/// (GFP-4), kernel memory that must stay put through it all (SWAP-2), and an address space larger
/// than RAM (ADDR-5). Which pages go to swap is never demanded: after each swap event every page the
/// model knows is read back.
/// </summary>
internal sealed partial class UserMachine
{
    private int VerifyAll(string? rule)
    {
        int n = 0;
        foreach (var p in _m.Procs.ToList()) n += Verify(p, rule, Math.Max(0, MaxVerifyPages - n));
        return n;
    }

    /// <summary>Every page the model knows to be resident or swapped, readable or not.</summary>
    private int KnownPageCount() => _m.Procs.Sum(p => p.Maps.Sum(m => KnownPages(p, m).Count()));

    private long TotalFaults() => _m.Procs.Sum(Faults);

    private void SwapOut(int pages)
    {
        if (_swap is null || _m.Procs.Count == 0) return;
        _s.Operations++;
        EnsureKernelBlock();
        VerifyAll(null);
        long freeBefore = _swap.SwapFreePages;
        int done = 0;
        var e = Try(() => done = _swap.SwapOut(pages));
        long freeAfter = _swap.SwapFreePages;
        if (_t.Enabled) _t.Step($"swap_out({pages}) -> {(e is null ? done.ToString() : Describe(e))}; swap free {freeBefore} -> {freeAfter}", $"sw.SwapOut({pages});");
        _s.That("SWAP-1", e is null && done >= 0 && done <= pages && freeAfter >= 0 && freeAfter <= freeBefore,
            $"swap_out({pages}) returned {(e is null ? done.ToString() : Describe(e))} with swap free going {freeBefore} -> {freeAfter}");
        if (done > 0) AfterSwap();
    }

    /// <summary>After pages went to swap: every page comes back intact through a page fault (SWAP-1), kernel memory never moved (SWAP-2).</summary>
    private void AfterSwap()
    {
        int known = KnownPageCount();
        long faultsBefore = TotalFaults();
        int read = VerifyAll("SWAP-1");
        long faultsAfter = TotalFaults();
        // Only when every page a process holds was read back can one of them be known to have been swapped.
        if (read > 0 && read == known)
            _s.That("SWAP-1", faultsAfter > faultsBefore,
                $"pages were swapped out, yet reading back all {read} pages the processes hold took no page fault: a swapped-out page must come back through a fault");
        CheckKernelBlocks();
    }

    /// <summary>SWAP-2: the kernel's own allocations keep their frames and their bytes.</summary>
    private void CheckKernelBlocks()
    {
        if (_mem is null || _pages is null) return;
        foreach (var block in _m.KernelBlocks)
        {
            var buf = new byte[block.Data.Length];
            var e = Try(() => _mem.Read(block.Addr, buf));
            ulong phys = 0;
            var pe = Try(() => phys = _pages.VirtToPhys(block.Addr));
            if (_t.Enabled) _t.Step($"read {block.Var} (0x{block.Addr:x}) and virt_to_phys -> 0x{phys:x}", $"mem.Read({block.Var}, new byte[{block.Data.Length}]);");
            int diff = e is null ? buf.AsSpan().CommonPrefixLength(block.Data) : 0;
            _s.That("SWAP-2", e is null && pe is null && diff == buf.Length && phys == block.Phys,
                () => e is not null || pe is not null ? $"kernel memory {block.Var} at 0x{block.Addr:x} became unreadable after swapping: {Describe(e ?? pe)}"
                    : phys != block.Phys ? $"{block.Var} at 0x{block.Addr:x} moved from physical 0x{block.Phys:x} to 0x{phys:x} while user pages were swapped: kernel memory is never swapped"
                    : $"{block.Var} at 0x{block.Addr:x} holds 0x{buf[diff]:x2} at offset {diff} after swapping, it held 0x{block.Data[diff]:x2}: kernel memory is never swapped");
        }
    }

    /// <summary>Kernel memory must be live while user pages are swapped, for SWAP-2 to be shown.</summary>
    private void EnsureKernelBlock()
    {
        if (_m.KernelBlocks.Count == 0) KernelAlloc(new UserOp(UserOpKind.KernelAlloc, Target: _m.Procs.Count, Length: 96, Seed: 5150));
    }

    private void KernelAlloc(UserOp op)
    {
        if (_pages is null || _mem is null || _m.KernelBlocks.Count >= 8) return;
        _s.Operations++;
        bool kmalloc = op.Target % 2 == 0 && _kmalloc is not null;
        int size = kmalloc ? Math.Clamp(op.Length, 1, 2 * _ps) : _ps;
        string name = _m.Name("k");
        ulong addr = 0;
        var e = Try(() => addr = kmalloc ? _kmalloc!.Kmalloc(size, Gfp.Kernel) : _pages.GetFreePages(Gfp.Kernel, 0));
        if (_t.Enabled) _t.Step($"{name} = {(kmalloc ? $"kmalloc({size}, GFP_KERNEL)" : "__get_free_page(GFP_KERNEL)")} -> {(e is null ? $"0x{addr:x}" : Describe(e))}",
            kmalloc ? $"var {name} = ((IKmalloc)mm).Kmalloc({size}, Gfp.Kernel);" : $"var {name} = pages.GetFreePages(Gfp.Kernel, 0);");
        if (e is not null || addr == 0) return;
        _kernelDirty = true;
        var data = Bytes(op.Seed, size);
        if (Try(() => _mem.Write(addr, data)) is not null) return;
        if (_t.Enabled) _t.Step($"write {size} bytes to {name}", $"mem.Write({name}, Bytes({op.Seed}, {size}));");
        ulong phys = 0;
        if (Try(() => phys = _pages.VirtToPhys(addr)) is not null) return;
        _m.KernelBlocks.Add(new KernelBlock(name, addr, phys, data, kmalloc));
    }

    /// <summary>
    /// Memory pressure: sleeping allocations take every free page, swapping user pages out as they go
    /// (GFP-4: one fails only when no swappable page is left in its zones or swap is full); then
    /// everything goes back and every user page must read back intact (SWAP-1), kernel memory unmoved (SWAP-2).
    /// </summary>
    private void Pressure()
    {
        if (_pages is null || _swap is null || _m.Procs.Count == 0) return;
        _s.Operations++;
        EnsureKernelBlock();
        VerifyAll(null);
        long swapBefore = _swap.SwapFreePages;
        var pages = new List<(PageHandle Page, int Order)>();
        var blocks = new List<(ulong Addr, int Order)>();
        int budget = 4096;
        foreach (var (gfp, highmem) in new[] { (Gfp.HighUser, true), (Gfp.Kernel, false) })
        {
            for (int order = _p.MaxOrder; order >= 0 && budget > 0; order--)
            {
                while (budget-- > 0)
                {
                    PageHandle page = PageHandle.Null;
                    ulong addr = 0;
                    var e = Try(() => { if (highmem) page = _pages.AllocPages(gfp, order); else addr = _pages.GetFreePages(gfp, order); });
                    if (e is not null) { _s.Fail("GFP-4", $"a {Gfp.Describe(gfp)} order-{order} allocation under pressure raised {Describe(e)}"); return; }
                    if (highmem ? !page.IsNull : addr != 0)
                    {
                        if (highmem) pages.Add((page, order)); else blocks.Add((addr, order));
                        continue;
                    }
                    if (order == 0) CheckReclaimed(gfp);
                    break;
                }
            }
        }
        long swapMid = _swap.SwapFreePages;
        if (_t.Enabled)
            _t.Step($"memory pressure: {pages.Count} GFP_HIGHUSER and {blocks.Count} GFP_KERNEL blocks taken until NULL; swap free {swapBefore} -> {swapMid}; all freed again",
                $"{{ /* memory pressure */ var held = new List<(PageHandle, int)>(); for (int o = {_p.MaxOrder}; o >= 0; o--) for (PageHandle pg; !(pg = pages.AllocPages(Gfp.HighUser, o)).IsNull;) held.Add((pg, o)); foreach (var (pg, o) in held) pages.FreePagesOf(pg, o); }}");
        foreach (var (page, order) in pages) _pages.FreePagesOf(page, order);
        foreach (var (addr, order) in blocks) _pages.FreePages(addr, order);
        if (swapMid < swapBefore) AfterSwap();
    }

    /// <summary>GFP-4: a sleeping allocation that returned NULL left nothing it could have swapped out.</summary>
    private void CheckReclaimed(GfpFlags gfp)
    {
        var zones = GfpSemantics.Zonelist(gfp);
        long anon = zones.Sum(z => _swap!.AnonPages(z));
        long swapFree = _swap!.SwapFreePages;
        _s.That("GFP-4", anon == 0 || swapFree == 0,
            $"an order-0 {Gfp.Describe(gfp)} allocation returned NULL while {anon} swappable user pages were resident in its zones and {swapFree} swap slots were free: a sleeping allocation must swap them out first");
    }

    /// <summary>ADDR-5: a process maps more than the machine's RAM (touching a little of it), and every mapping works.</summary>
    private void BigMap(ProcModel proc)
    {
        ulong ram = _p.PhysicalMemory;
        ulong region = Math.Min(ram / 2, _p.TaskSize / 16) & ~(ulong)(_ps - 1);
        ulong count = (ram + ram / 4 + region - 1) / region;
        if (region == 0 || proc.MappedBytes + count * region > _p.TaskSize / 2) return;
        _s.Operations++;
        var rw = Prot.Read | Prot.Write;
        var starts = new List<ulong>();
        for (ulong i = 0; i < count; i++)
        {
            string name = _m.Name("big");
            long r = CallMmap(proc, name, 0, region, rw, MapFlags.Private | MapFlags.Anonymous, -1, 0, $"{i + 1} of {count} mappings of {Spec.Profiles.Profile.FormatSize(region)}: more than the {Spec.Profiles.Profile.FormatSize(ram)} of RAM in all");
            _s.That("ADDR-5", r > 0 && proc.IsFree((ulong)r, (ulong)r + region),
                $"mapping {i + 1} of {count} regions of {region} bytes failed ({Result(r)}): a virtual address space may be larger than physical memory");
            if (r <= 0) break;
            starts.Add((ulong)r);
        }
        for (int i = 0; i < starts.Count; i++)
            foreach (ulong va in new[] { starts[i], starts[i] + region - 8 })
            {
                var data = Bytes(i * 2 + (int)(va & 1) + 99, 8);
                var f = UserFault.None;
                var e = Try(() => f = _um.UserWrite(proc.Pid, va, data));
                var back = new byte[8];
                var f2 = UserFault.None;
                var e2 = Try(() => f2 = _um.UserRead(proc.Pid, va, back));
                if (_t.Enabled) _t.Step($"write and read 8 bytes at 0x{va:x} -> {f}, {f2}", $"um.UserWrite({proc.Var}, 0x{va:x}UL, Bytes({i * 2 + (int)(va & 1) + 99}, 8));");
                _s.That("ADDR-5", e is null && e2 is null && f == UserFault.None && f2 == UserFault.None && back.AsSpan().SequenceEqual(data),
                    $"a page of a mapping beyond the size of RAM at 0x{va:x} did not keep a store: {(e ?? e2) switch { null => $"{f}, {f2}", var x => Describe(x) }}");
            }
        foreach (ulong start in starts)
        {
            int r = CallMunmap(proc, start, region);
            _s.That("ADDR-5", r == 0, $"munmap of a {region}-byte mapping returned {Result(r)}");
        }
    }
}
