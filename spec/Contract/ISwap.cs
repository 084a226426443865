namespace KernelMm.Spec.Contract;

/// <summary>
/// A bounded swap device behind the user address spaces (Capability.Swap, optional): anonymous user
/// pages may be written out to it and come back on their next access, contents intact, possibly in
/// another frame (SWAP-1); kernel memory never goes there (SWAP-2). Sleeping kernel allocations may
/// swap user pages out to find memory (GFP-4). The suite never demands which pages are chosen.
/// </summary>
public interface ISwap
{
    /// <summary>Slots of the swap device, in pages (SwapTotal of /proc/meminfo).</summary>
    long SwapTotalPages { get; }

    /// <summary>Free slots (SwapFree).</summary>
    long SwapFreePages { get; }

    /// <summary>
    /// Reclaim of user memory, as kswapd or madvise(MADV_PAGEOUT) does: writes up to
    /// <paramref name="pages"/> resident anonymous user pages of the implementation's choice out to
    /// swap and frees their frames. Context: may sleep.
    /// Return: the pages written out (0 when none is resident or the device is full).
    /// Errors: <see cref="InvalidArgumentException"/> for a negative count.
    /// </summary>
    int SwapOut(int pages);

    /// <summary>
    /// Resident anonymous user pages whose frames lie in <paramref name="zone"/> (nr_anon_pages of
    /// /proc/zoneinfo): what swapping could free there.
    /// </summary>
    long AnonPages(Zone zone);
}
