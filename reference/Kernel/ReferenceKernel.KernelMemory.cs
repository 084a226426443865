using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using static KernelMm.Reference.Mm.MemMap;

namespace KernelMm.Reference;

/// <summary>IKernelMemory: byte access to kernel virtual addresses (direct map and kmap windows).</summary>
public sealed partial class ReferenceKernel : IKernelMemory
{
    public void Read(ulong addr, Span<byte> destination)
    {
        Alive();
        CheckMapped(addr, destination.Length);
        for (int done = 0; done < destination.Length;)
        {
            TryTranslate(addr + (ulong)done, out int pfn, out int offset);
            int len = Math.Min(destination.Length - done, _pageSize - offset);
            _memory.Read(pfn, offset, destination.Slice(done, len));
            done += len;
        }
    }

    public void Write(ulong addr, ReadOnlySpan<byte> source)
    {
        Alive();
        // The whole range is checked first, so a faulting write changes nothing.
        CheckMapped(addr, source.Length);
        for (int done = 0; done < source.Length;)
        {
            TryTranslate(addr + (ulong)done, out int pfn, out int offset);
            int len = Math.Min(source.Length - done, _pageSize - offset);
            _memory.Write(pfn, offset, source.Slice(done, len));
            done += len;
        }
    }

    private void CheckMapped(ulong addr, int length)
    {
        for (int done = 0; done < length;)
        {
            ulong at = addr + (ulong)done;
            if (!TryTranslate(at, out _, out int offset))
                throw new KernelPageFaultException(at, "no kernel mapping");
            done += _pageSize - offset;
        }
    }

    private bool TryTranslate(ulong addr, out int pfn, out int offset)
    {
        if (_direct.Contains(addr))
        {
            ulong pa = _direct.VirtToPhys(addr);
            pfn = (int)(pa >> _direct.PageShift);
            offset = (int)(pa & (ulong)(_pageSize - 1));
            return true;
        }
        return _highmem.TryTranslate(addr, out pfn, out offset);
    }
}
