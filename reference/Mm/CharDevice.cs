using KernelMm.Spec.Contract;

namespace KernelMm.Reference.Mm;

/// <summary>
/// A character device: its number and, when its driver has one, the mmap method of its
/// file_operations (MMAP-10: a stream device has none, and mmap of it fails with -ENODEV).
/// </summary>
internal abstract class CharDevice(int id, string name)
{
    public int Id { get; } = id;
    public string Name { get; } = name;
    /// <summary>Whether the driver has an mmap method.</summary>
    public abstract bool HasMmap { get; }
    /// <summary>The vma the mmap method received last (DRV-1).</summary>
    public DriverVma? LastVma { get; protected set; }

    /// <summary>The driver's mmap(filp, vma): fills the page tables of <paramref name="vma"/> through <paramref name="ops"/>; 0 or a negated errno.</summary>
    public virtual int Mmap(DriverMapOps ops, MmStruct mm, Vma vma) => -Errno.ENODEV;

    protected DriverVma Record(Vma vma, int pageShift) =>
        LastVma = new DriverVma(vma.Start, vma.End, (ulong)vma.PgOff, vma.Prot, vma.Shared);
}

/// <summary>A serial port (drivers/tty): reads and writes, no mmap method.</summary>
internal sealed class SerialDevice() : CharDevice(Devices.Serial, "ttyS0")
{
    public override bool HasMmap => false;
}

/// <summary>
/// A driver whose memory is a physically contiguous buffer and whose mmap method maps it with one
/// remap_pfn_range call (LDD3's simple_remap_mmap, seed 002).
/// </summary>
internal sealed class RemapPfnDevice(int id, ulong pfn, long pages, long remapSize) : CharDevice(id, $"remap{id}")
{
    public override bool HasMmap => true;

    public override int Mmap(DriverMapOps ops, MmStruct mm, Vma vma)
    {
        Record(vma, ops.PageShift);
        long vmaPages = (long)vma.Pages(ops.PageShift);
        if (vma.PgOff + vmaPages > pages) return -Errno.EINVAL;
        long size = remapSize > 0 ? remapSize : (long)(vma.End - vma.Start);
        return ops.RemapPfnRange(mm, vma, vma.Start, pfn + (ulong)vma.PgOff, size, vma.Prot);
    }
}

/// <summary>
/// A driver whose memory is a list of separately allocated pages, mapped one at a time with
/// vm_insert_page (seed 003's pattern, DRV-3).
/// </summary>
internal sealed class PageListDevice(int id, IReadOnlyList<int> pfns) : CharDevice(id, $"pages{id}")
{
    public override bool HasMmap => true;

    public override int Mmap(DriverMapOps ops, MmStruct mm, Vma vma)
    {
        Record(vma, ops.PageShift);
        long vmaPages = (long)vma.Pages(ops.PageShift);
        if (vma.PgOff + vmaPages > pfns.Count) return -Errno.EINVAL;
        for (long i = 0; i < vmaPages; i++)
        {
            int error = ops.VmInsertPage(mm, vma, vma.Start + ((ulong)i << ops.PageShift), pfns[(int)(vma.PgOff + i)]);
            if (error != 0) return error;
        }
        return 0;
    }
}
