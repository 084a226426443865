namespace KernelMm.Reference.Mm;

/// <summary>
/// The bytes of physical RAM. A frame's storage is created on its first write (and its chunk of
/// the index on first use), so a 2 GiB profile costs only what is touched. A never-written frame
/// reads as zero.
/// </summary>
internal sealed class PhysicalMemory(int frames, int pageSize)
{
    private const int ChunkShift = 10;
    // Stryker disable once Bitwise : a positive int, so >> and >>> are the same shift
    private readonly byte[]?[]?[] _chunks = new byte[]?[]?[(frames + (1 << ChunkShift) - 1) >> ChunkShift];
    public int PageSize { get; } = pageSize;

    private byte[]? Frame(int pfn) =>
        Volatile.Read(ref _chunks[pfn >> ChunkShift]) is { } chunk ? Volatile.Read(ref chunk[pfn & ((1 << ChunkShift) - 1)]) : null;

    /// <summary>
    /// The frame's storage, made on first write. Smp: two CPUs writing into fresh frames of one chunk
    /// at once must not each make the chunk (one's bytes would be lost), so both are published by
    /// compare-and-swap and the loser takes the winner's.
    /// </summary>
    private byte[] FrameForWrite(int pfn)
    {
        // Stryker disable once Bitwise : pfn is never negative here, so >> and >>> are the same shift
        ref var chunkSlot = ref _chunks[pfn >> ChunkShift];
        var chunk = Volatile.Read(ref chunkSlot);
        if (chunk is null)
        {
            var fresh = new byte[]?[1 << ChunkShift];
            chunk = Interlocked.CompareExchange(ref chunkSlot, fresh, null) ?? fresh;
        }
        ref var frameSlot = ref chunk[pfn & ((1 << ChunkShift) - 1)];
        var frame = Volatile.Read(ref frameSlot);
        if (frame is null)
        {
            var fresh = new byte[PageSize];
            frame = Interlocked.CompareExchange(ref frameSlot, fresh, null) ?? fresh;
        }
        return frame;
    }

    public void Read(int pfn, int offset, Span<byte> destination)
    {
        var frame = Frame(pfn);
        if (frame is null) destination.Clear();
        else frame.AsSpan(offset, destination.Length).CopyTo(destination);
    }

    public void Write(int pfn, int offset, ReadOnlySpan<byte> source)
    {
        source.CopyTo(FrameForWrite(pfn).AsSpan(offset));
    }

    /// <summary>
    /// The storage of one frame, created (zeroed) when it has none yet: for structures that live in
    /// frames and are read far more often than written, such as page tables.
    /// </summary>
    public byte[] FrameBytes(int pfn) => FrameForWrite(pfn);

    /// <summary>Zeroes <paramref name="count"/> frames from <paramref name="pfn"/> (clear_page).</summary>
    public void Clear(int pfn, int count)
    {
        for (int i = pfn; i < pfn + count; i++)
            if (Frame(i) is { } f) Array.Clear(f);
    }
}
