namespace KernelMm.Reference.Mm;

/// <summary>
/// Bus memory above RAM that ioremap maps (DRV-5): the reference's devices behave as plain memory,
/// as a PCI frame buffer does. Sparse: a device page costs nothing until it is written; an unwritten
/// byte reads zero.
/// </summary>
internal sealed class DeviceMemory(int pageSize)
{
    private readonly Dictionary<ulong, byte[]> _pages = new();

    public void Read(ulong pfn, int offset, Span<byte> destination)
    {
        if (_pages.TryGetValue(pfn, out var page)) page.AsSpan(offset, destination.Length).CopyTo(destination);
        else destination.Clear();
    }

    public void Write(ulong pfn, int offset, ReadOnlySpan<byte> source)
    {
        if (!_pages.TryGetValue(pfn, out var page)) _pages[pfn] = page = new byte[pageSize];
        source.CopyTo(page.AsSpan(offset));
    }
}
