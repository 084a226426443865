using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;

namespace KernelMm.Reference;

/// <summary>
/// IKernelMemory: byte access to kernel virtual addresses, as kernel code dereferencing a pointer.
/// The direct mapping is translated by its formula (it is fixed at boot, so no translation of it
/// can go stale, and CPUs may use it at once: Smp); every other address (vmalloc, ioremap, kmap
/// windows) goes through the MMU, the TLB then the kernel's page tables, one CPU at a time. A frame
/// of RAM reads and writes RAM; a frame above it, bus memory (ioremap's devices).
/// </summary>
public sealed partial class ReferenceKernel : IKernelMemory
{
    /// <summary>Serialises the MMU path of kernel memory accesses (one shared TLB stands for every CPU's).</summary>
    private readonly Lock _mmuLock = new();

    public void Read(ulong addr, Span<byte> destination)
    {
        Alive();
        // Stryker disable once Statement,Block : the fast path only: without its return (or its copy, or the whole block) the MMU path below moves the same bytes, as TranslateForAccess maps a direct address by the same formula and CheckMapped skips it
        if (WhollyDirect(addr, destination.Length)) { DirectRead(addr, destination); return; }
        lock (_mmuLock)
        {
            CheckMapped(addr, destination.Length, Access.KernelRead);
            for (int done = 0; done < destination.Length;)
            {
                ulong pa = TranslateForAccess(addr + (ulong)done, Access.KernelRead);
                int offset = (int)(pa & (ulong)(_pageSize - 1));
                int len = Math.Min(destination.Length - done, _pageSize - offset);
                // Stryker disable once Bitwise : pa is a ulong, so >> and >>> are the same shift
                ulong pfn = pa >> _direct.PageShift;
                if (pfn < (ulong)_map.Frames) _memory.Read((int)pfn, offset, destination.Slice(done, len));
                else Device.Read(pfn, offset, destination.Slice(done, len));
                done += len;
            }
        }
    }

    public void Write(ulong addr, ReadOnlySpan<byte> source)
    {
        Alive();
        // Stryker disable once Statement,Block : the fast path only: without its return (or its copy, or the whole block) the MMU path below writes the same bytes again, as TranslateForAccess maps a direct address by the same formula
        if (WhollyDirect(addr, source.Length)) { DirectWrite(addr, source); return; }
        lock (_mmuLock)
        {
            // The whole range is checked first, so a faulting write changes nothing.
            CheckMapped(addr, source.Length, Access.KernelWrite);
            for (int done = 0; done < source.Length;)
            {
                ulong pa = TranslateForAccess(addr + (ulong)done, Access.KernelWrite);
                int offset = (int)(pa & (ulong)(_pageSize - 1));
                int len = Math.Min(source.Length - done, _pageSize - offset);
                // Stryker disable once Bitwise : pa is a ulong, so >> and >>> are the same shift
                ulong pfn = pa >> _direct.PageShift;
                if (pfn < (ulong)_map.Frames) _memory.Write((int)pfn, offset, source.Slice(done, len));
                else Device.Write(pfn, offset, source.Slice(done, len));
                done += len;
            }
        }
    }

    /// <summary>Whether every byte of [addr, addr + length) lies in the direct mapping.</summary>
    private bool WhollyDirect(ulong addr, int length) =>
        _direct.Contains(addr) && (length == 0 || (addr + (ulong)length - 1 >= addr && _direct.Contains(addr + (ulong)length - 1)));

    private void DirectRead(ulong addr, Span<byte> destination)
    {
        for (int done = 0; done < destination.Length;)
        {
            ulong pa = _direct.VirtToPhys(addr + (ulong)done);
            int offset = (int)(pa & (ulong)(_pageSize - 1));
            int len = Math.Min(destination.Length - done, _pageSize - offset);
            // Stryker disable once Bitwise : pa is a ulong, so >> and >>> are the same shift
            _memory.Read((int)(pa >> _direct.PageShift), offset, destination.Slice(done, len));
            done += len;
        }
    }

    private void DirectWrite(ulong addr, ReadOnlySpan<byte> source)
    {
        for (int done = 0; done < source.Length;)
        {
            ulong pa = _direct.VirtToPhys(addr + (ulong)done);
            int offset = (int)(pa & (ulong)(_pageSize - 1));
            int len = Math.Min(source.Length - done, _pageSize - offset);
            // Stryker disable once Bitwise : pa is a ulong, so >> and >>> are the same shift
            _memory.Write((int)(pa >> _direct.PageShift), offset, source.Slice(done, len));
            done += len;
        }
    }

    /// <summary>ADDR-6: an access to a page with no mapping is a kernel page fault ("unable to handle kernel paging request"), before any byte moves.</summary>
    private void CheckMapped(ulong addr, int length, Access access)
    {
        for (int done = 0; done < length;)
        {
            ulong at = addr + (ulong)done;
            if (!_direct.Contains(at))
            {
                var t = Kpt.Mmu.Translate(at, access);
                if (t.Fault != TranslationFault.None) throw new KernelPageFaultException(at, t.Fault == TranslationFault.NotPresent ? "no kernel mapping" : $"{t.Fault} fault");
            }
            done += _pageSize - (int)(at & (ulong)(_pageSize - 1));
        }
    }

    /// <summary>The physical address of a kernel address already checked to be mapped.</summary>
    private ulong TranslateForAccess(ulong addr, Access access) =>
        _direct.Contains(addr) ? _direct.VirtToPhys(addr) : Kpt.Mmu.Translate(addr, access).PhysicalAddress;
}
