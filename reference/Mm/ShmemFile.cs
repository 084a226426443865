namespace KernelMm.Reference.Mm;

/// <summary>
/// A file of the in-memory file system (tmpfs/ramfs-like, mm/shmem.c reduced), and the object behind
/// a MAP_SHARED | MAP_ANONYMOUS mapping (shmem_zero_setup makes one per mapping). Its page cache is
/// its only storage: page i lives in one frame that every MAP_SHARED mapping of it maps directly,
/// so a store through one mapping is seen by all of them and by <see cref="Read"/> (MMAP-7). Its
/// pages are never swapped (SWAP-2's decision). A regular file gets all its pages when created; an
/// anonymous object gets each on first touch and gives them back when its last mapping goes.
/// </summary>
internal sealed class ShmemFile
{
    private readonly UserVm _vm;
    private readonly Dictionary<long, int> _pages = new();

    private ShmemFile(UserVm vm, int id, long size, bool anonymous)
    {
        _vm = vm;
        Id = id;
        Size = size;
        Anonymous = anonymous;
    }

    /// <summary>A regular file of <paramref name="size"/> zero bytes, every page allocated; null when memory ran out (nothing kept).</summary>
    public static ShmemFile? CreateRegular(UserVm vm, int id, long size)
    {
        var file = new ShmemFile(vm, id, size, anonymous: false);
        long pages = (size + vm.PageSize - 1) >> vm.PageShift;
        for (long i = 0; i < pages; i++)
            if (file.PageFrame(i) < 0) { file.Release(); return null; }
        return file;
    }

    /// <summary>The shmem object of a MAP_SHARED | MAP_ANONYMOUS mapping of <paramref name="size"/> bytes.</summary>
    public static ShmemFile CreateAnonymous(UserVm vm, long size) => new(vm, 0, size, anonymous: true);

    /// <summary>The file's id (0 for an anonymous object).</summary>
    public int Id { get; }
    /// <summary>i_size in bytes; it never changes.</summary>
    public long Size { get; }
    public bool Anonymous { get; }
    /// <summary>Mappings (vmas) of this object that exist now.</summary>
    public int Mappings { get; set; }

    /// <summary>Pages wholly or partly inside the file.</summary>
    public long PageCount => (Size + _vm.PageSize - 1) >> _vm.PageShift;

    /// <summary>shmem_get_folio: the frame of page <paramref name="index"/>, allocated (zeroed) on first use; -1 when no frame can be had.</summary>
    public int PageFrame(long index)
    {
        if (_pages.TryGetValue(index, out int pfn)) return pfn;
        pfn = _vm.AllocFrame();
        if (pfn < 0) return -1;
        _vm.ZeroFrame(pfn);
        _pages.Add(index, pfn);
        return pfn;
    }

    /// <summary>pread: bytes from <paramref name="offset"/> up to the end of the file.</summary>
    public int Read(long offset, Span<byte> destination)
    {
        if (offset < 0 || offset >= Size) return 0;
        int n = (int)Math.Min(destination.Length, Size - offset);
        for (int done = 0; done < n;)
        {
            long at = offset + done;
            int inPage = (int)(at & (_vm.PageSize - 1));
            int len = Math.Min(n - done, _vm.PageSize - inPage);
            var chunk = destination.Slice(done, len);
            if (_pages.TryGetValue(at >> _vm.PageShift, out int pfn)) _vm.Memory.Read(pfn, inPage, chunk);
            else chunk.Clear();
            done += len;
        }
        return n;
    }

    /// <summary>pwrite within the file. False when a page could not be had (nothing of that page written).</summary>
    public bool Write(long offset, ReadOnlySpan<byte> source)
    {
        for (int done = 0; done < source.Length;)
        {
            long at = offset + done;
            int inPage = (int)(at & (_vm.PageSize - 1));
            int len = Math.Min(source.Length - done, _vm.PageSize - inPage);
            int pfn = PageFrame(at >> _vm.PageShift);
            if (pfn < 0) return false;
            _vm.Memory.Write(pfn, inPage, source.Slice(done, len));
            done += len;
        }
        return true;
    }

    /// <summary>Gives every frame back (an anonymous object whose last mapping went).</summary>
    public void Release()
    {
        foreach (int pfn in _pages.Values) _vm.FreeFrame(pfn);
        _pages.Clear();
    }
}
