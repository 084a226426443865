namespace KernelMm.Reference.Mm;

/// <summary>
/// The bytes of physical RAM. A frame's storage is created on its first write (and its chunk of
/// the index on first use), so a 2 GiB profile costs only what is touched. A never-written frame
/// reads as zero.
/// </summary>
internal sealed class PhysicalMemory(int frames, int pageSize)
{
    private const int ChunkShift = 10;
    private readonly byte[]?[]?[] _chunks = new byte[]?[]?[(frames + (1 << ChunkShift) - 1) >> ChunkShift];
    public int PageSize { get; } = pageSize;

    private byte[]? Frame(int pfn) => _chunks[pfn >> ChunkShift]?[pfn & ((1 << ChunkShift) - 1)];

    public void Read(int pfn, int offset, Span<byte> destination)
    {
        var frame = Frame(pfn);
        if (frame is null) destination.Clear();
        else frame.AsSpan(offset, destination.Length).CopyTo(destination);
    }

    public void Write(int pfn, int offset, ReadOnlySpan<byte> source)
    {
        var chunk = _chunks[pfn >> ChunkShift] ??= new byte[]?[1 << ChunkShift];
        var frame = chunk[pfn & ((1 << ChunkShift) - 1)] ??= new byte[PageSize];
        source.CopyTo(frame.AsSpan(offset));
    }

    /// <summary>
    /// The storage of one frame, created (zeroed) when it has none yet: for structures that live in
    /// frames and are read far more often than written, such as page tables.
    /// </summary>
    public byte[] FrameBytes(int pfn)
    {
        var chunk = _chunks[pfn >> ChunkShift] ??= new byte[]?[1 << ChunkShift];
        return chunk[pfn & ((1 << ChunkShift) - 1)] ??= new byte[PageSize];
    }

    /// <summary>Zeroes <paramref name="count"/> frames from <paramref name="pfn"/> (clear_page).</summary>
    public void Clear(int pfn, int count)
    {
        for (int i = pfn; i < pfn + count; i++)
            if (Frame(i) is { } f) Array.Clear(f);
    }
}
