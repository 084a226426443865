using System.Buffers.Binary;
using KernelMm.Spec.Profiles;

namespace KernelMm.Reference.Mm;

/// <summary>
/// The bits of a page-table entry, at the positions i386 uses (arch/x86/include/asm/pgtable_types.h:
/// _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, _PAGE_PSE). The frame number sits above the flags, from bit
/// PAGE_SHIFT up, so an entry reads <c>pfn &lt;&lt; PAGE_SHIFT | flags</c>.
/// </summary>
[Flags]
internal enum PteFlags : uint
{
    None = 0,
    /// <summary>_PAGE_PRESENT: the entry maps something; without it the walk faults (ADDR-6).</summary>
    Present = 1 << 0,
    /// <summary>_PAGE_RW: writes allowed (needed at every level of the walk).</summary>
    Writable = 1 << 1,
    /// <summary>_PAGE_USER: user-mode accesses allowed (needed at every level of the walk).</summary>
    User = 1 << 2,
    /// <summary>_PAGE_PSE: in an entry above the last level, a leaf mapping a large page instead of pointing at a table.</summary>
    Large = 1 << 7,

    /// <summary>PAGE_KERNEL: a kernel page, read and write.</summary>
    Kernel = Present | Writable,
    /// <summary>_KERNPG_TABLE: an upper-level entry of the kernel's tables.</summary>
    KernelTable = Present | Writable,
    /// <summary>_PAGE_TABLE: an upper-level entry of a process's tables; the leaf decides the final rights.</summary>
    UserTable = Present | Writable | User,
    /// <summary>A user page, read and write.</summary>
    UserReadWrite = Present | Writable | User,
    /// <summary>A user page, read only.</summary>
    UserReadOnly = Present | User,
}

/// <summary>
/// A profile's page-table format: how many levels, how many index bits each takes from a virtual
/// address, and how an entry is laid out. x86-32: two levels of 1024 four-byte entries (the
/// 10/10/12 split); 64-bit-8k: three levels of 1024 eight-byte entries over 13 offset bits
/// (10/10/10/13, as Alpha). Every table is one frame. Entries are little-endian, as on both
/// architectures.
/// </summary>
internal sealed class PageTableFormat
{
    private const uint FlagMask = (1u << 12) - 1;

    private readonly int[] _shift;
    private readonly int[] _bits;

    public PageTableFormat(Profile profile)
    {
        PageShift = profile.PageShift;
        EntryBytes = profile.PageTableEntryBytes;
        Levels = profile.PageTableLevelBits.Count;
        _bits = [.. profile.PageTableLevelBits];
        _shift = new int[Levels];
        int shift = PageShift;
        for (int level = Levels - 1; level >= 0; level--)
        {
            _shift[level] = shift;
            shift += _bits[level];
            if ((1 << _bits[level]) * EntryBytes > profile.PageSize)
                throw new ArgumentException($"{profile.Name}: a level-{level} table of 2^{_bits[level]} {EntryBytes}-byte entries does not fit in one page");
        }
        VirtualAddressBits = shift;
        PhysicalAddressBits = profile.PhysicalAddressBits;
        MaxPfn = (1UL << (PhysicalAddressBits - PageShift)) - 1;
        if (EntryBytes == 4) MaxPfn = Math.Min(MaxPfn, uint.MaxValue >> PageShift);
    }

    /// <summary>log2(PAGE_SIZE): the offset bits, below every index (ADDR-2).</summary>
    public int PageShift { get; }
    /// <summary>Number of levels; level 0 is the top (pgd), level <see cref="Levels"/> - 1 holds the PTEs.</summary>
    public int Levels { get; }
    /// <summary>Bytes per entry (4 or 8).</summary>
    public int EntryBytes { get; }
    /// <summary>Bits of a virtual address the tables translate; above them a 64-bit address is sign-extended.</summary>
    public int VirtualAddressBits { get; }
    /// <summary>Width of the physical addresses an entry can name.</summary>
    public int PhysicalAddressBits { get; }
    /// <summary>The largest frame number an entry can hold.</summary>
    public ulong MaxPfn { get; }
    /// <summary>The last level: its entries map single pages.</summary>
    public int PteLevel => Levels - 1;

    /// <summary>The index of <paramref name="va"/> in a table of <paramref name="level"/> (pgd_index, pmd_index, pte_index).</summary>
    public int IndexOf(ulong va, int level) => (int)((va >> _shift[level]) & ((1UL << _bits[level]) - 1));

    /// <summary>Bytes one entry of <paramref name="level"/> covers (PGDIR_SIZE, PMD_SIZE, PAGE_SIZE).</summary>
    public ulong SpanOf(int level) => 1UL << _shift[level];

    /// <summary>Entries in one table of <paramref name="level"/> (PTRS_PER_PGD, PTRS_PER_PMD, PTRS_PER_PTE).</summary>
    public int EntriesPerTable(int level) => 1 << _bits[level];

    /// <summary>
    /// Whether the MMU translates <paramref name="va"/> at all: on x86-32 every 32-bit address; on a
    /// 64-bit format only sign-extended ones (bits above <see cref="VirtualAddressBits"/> copy the
    /// top translated bit).
    /// </summary>
    public bool IsCanonical(ulong va)
    {
        if (VirtualAddressBits >= 64) return true;
        // Stryker disable once Bitwise : a ulong address, so >> and >>> are the same shift
        if (EntryBytes == 4) return va >> VirtualAddressBits == 0;
        long high = (long)va >> (VirtualAddressBits - 1);
        return high == 0 || high == -1;
    }

    // ---- Entries ---------------------------------------------------------------------------

    /// <summary>An entry mapping frame <paramref name="pfn"/> with <paramref name="flags"/> (pfn_pte, mk_pte).</summary>
    public ulong MakeEntry(ulong pfn, PteFlags flags) => pfn << PageShift | (uint)flags;

    /// <summary>The frame an entry names (pte_pfn).</summary>
    // Stryker disable once Bitwise : a ulong entry, so >> and >>> are the same shift
    public ulong PfnOf(ulong entry) => entry >> PageShift;

    /// <summary>The flag bits of an entry.</summary>
    public static PteFlags FlagsOf(ulong entry) => (PteFlags)((uint)entry & FlagMask);

    public static bool IsPresent(ulong entry) => (entry & (ulong)PteFlags.Present) != 0;

    /// <summary>Reads entry <paramref name="index"/> of a table stored in <paramref name="table"/>.</summary>
    public ulong Read(byte[] table, int index) => EntryBytes == 4
        ? BinaryPrimitives.ReadUInt32LittleEndian(table.AsSpan(index << 2, 4))
        : BinaryPrimitives.ReadUInt64LittleEndian(table.AsSpan(index << 3, 8));

    /// <summary>Writes entry <paramref name="index"/> of a table stored in <paramref name="table"/> (set_pte).</summary>
    public void Write(byte[] table, int index, ulong entry)
    {
        if (EntryBytes == 4) BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(index << 2, 4), (uint)entry);
        else BinaryPrimitives.WriteUInt64LittleEndian(table.AsSpan(index << 3, 8), entry);
    }

    /// <summary>Whether a table of <paramref name="level"/> stored in <paramref name="table"/> has no entry left.</summary>
    public bool IsEmpty(byte[] table, int level) =>
        table.AsSpan(0, EntriesPerTable(level) * EntryBytes).IndexOfAnyExcept((byte)0) < 0;
}
