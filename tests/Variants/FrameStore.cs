namespace KernelMm.Tests.Variants;

/// <summary>
/// The bytes of physical memory, materialised lazily so that a 2 GiB machine boots at once.
/// Frames are grouped in chunks whose bookkeeping exists only once touched. A frame that was
/// never written holds either zeros or "garbage": pseudo-random bytes derived from a per-frame
/// seed, so an allocation can scribble over a whole max-order block without writing its bytes.
/// </summary>
internal sealed class FrameStore(int frames, int pageSize)
{
    private const int ChunkShift = 10;
    private const int ChunkFrames = 1 << ChunkShift;

    /// <summary>Per chunk and frame: 0 when the frame reads as zeros, otherwise the seed of its garbage.</summary>
    private readonly uint[]?[] _garbage = new uint[]?[(frames + ChunkFrames - 1) >> ChunkShift];
    /// <summary>Per chunk and frame: the frame's bytes once written.</summary>
    private readonly byte[]?[]?[] _bytes = new byte[]?[]?[(frames + ChunkFrames - 1) >> ChunkShift];
    private uint _nextSeed = 0x9E3779B9;

    public int PageSize { get; } = pageSize;

    /// <summary>Fills the frames with fresh garbage (what a non-zeroed allocation may contain).</summary>
    public void Scribble(int pfn, int count)
    {
        for (int f = pfn; f < pfn + count; f++)
        {
            _nextSeed = _nextSeed * 747796405u + 2891336453u;
            (_garbage[f >> ChunkShift] ??= new uint[ChunkFrames])[f & (ChunkFrames - 1)] = _nextSeed | 1;
            if (_bytes[f >> ChunkShift] is { } written) written[f & (ChunkFrames - 1)] = null;
        }
    }

    /// <summary>Zeroes the frames.</summary>
    public void Clear(int pfn, int count)
    {
        for (int f = pfn; f < pfn + count; f++)
        {
            if (_garbage[f >> ChunkShift] is { } seeds) seeds[f & (ChunkFrames - 1)] = 0;
            if (_bytes[f >> ChunkShift] is { } written) written[f & (ChunkFrames - 1)] = null;
        }
    }

    public void Read(int pfn, int offset, Span<byte> destination)
    {
        if (_bytes[pfn >> ChunkShift]?[pfn & (ChunkFrames - 1)] is { } bytes)
            bytes.AsSpan(offset, destination.Length).CopyTo(destination);
        else
            Generate(Seed(pfn), offset, destination);
    }

    public void Write(int pfn, int offset, ReadOnlySpan<byte> source)
    {
        var chunk = _bytes[pfn >> ChunkShift] ??= new byte[]?[ChunkFrames];
        ref var bytes = ref chunk[pfn & (ChunkFrames - 1)];
        if (bytes is null)
        {
            bytes = new byte[PageSize];
            Generate(Seed(pfn), 0, bytes);
        }
        source.CopyTo(bytes.AsSpan(offset));
    }

    private uint Seed(int pfn) => _garbage[pfn >> ChunkShift]?[pfn & (ChunkFrames - 1)] ?? 0;

    private static void Generate(uint seed, int offset, Span<byte> destination)
    {
        if (seed == 0) { destination.Clear(); return; }
        for (int i = 0; i < destination.Length; i++)
        {
            uint x = seed ^ (uint)(offset + i) * 0x85EBCA6Bu;
            x ^= x >> 13;
            x *= 0xC2B2AE35u;
            x ^= x >> 16;
            destination[i] = (byte)(x | 0x01); // never 0, so a page that should be zero is caught at its first byte
        }
    }
}
