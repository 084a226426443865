namespace KernelMm.Reference.Mm;

/// <summary>
/// The bytes of physical RAM. A frame's storage is created on its first write, so a 2 GiB
/// profile costs only what is touched. A never-written frame reads as zero.
/// </summary>
internal sealed class PhysicalMemory(int frames, int pageSize)
{
    private readonly byte[]?[] _frames = new byte[frames][];
    public int PageSize { get; } = pageSize;

    public void Read(int pfn, int offset, Span<byte> destination)
    {
        var frame = _frames[pfn];
        if (frame is null) destination.Clear();
        else frame.AsSpan(offset, destination.Length).CopyTo(destination);
    }

    public void Write(int pfn, int offset, ReadOnlySpan<byte> source)
    {
        var frame = _frames[pfn] ??= new byte[PageSize];
        source.CopyTo(frame.AsSpan(offset));
    }

    /// <summary>Zeroes <paramref name="count"/> frames from <paramref name="pfn"/> (clear_page).</summary>
    public void Clear(int pfn, int count)
    {
        for (int i = pfn; i < pfn + count; i++)
            if (_frames[i] is { } f) Array.Clear(f);
    }
}
