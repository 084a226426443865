using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>
/// One pure query (an operation that changes nothing, <see cref="WireOperation.ChangesState"/> false)
/// with its arguments: an address, pfn or handle, and a length for reads.
/// </summary>
public readonly record struct PureQuery(WireOperation Operation, ulong Argument, long Second = 0)
{
    public static PureQuery VirtToPhys(ulong addr) => new(Operations.VirtToPhys, addr);
    public static PureQuery PfnToPage(ulong pfn) => new(Operations.PfnToPage, pfn);
    public static PureQuery PageToPfn(PageHandle page) => new(Operations.PageToPfn, page.Value);
    public static PureQuery PageAddress(PageHandle page) => new(Operations.PageAddress, page.Value);
    public static PureQuery PageZone(PageHandle page) => new(Operations.PageZone, page.Value);
    public static PureQuery Read(ulong addr, int length) => new(Operations.Read, addr, length);
    public static PureQuery Ksize(ulong p) => new(Operations.Ksize, p);
    public static PureQuery SlabInfo() => new(Operations.SlabInfo, 0);
}

/// <summary>
/// Optional, for the engine: a booted instance that can answer several upcoming pure queries in one
/// round trip. <see cref="Prefetch"/> asks them all now (pipelined); every later call of the same
/// query with the same arguments, until the next state-changing call, is answered from those
/// answers, errors included (a pure query answers the same in the same state). Nothing changes in
/// what the implementation is asked or how it is judged: every answer still comes from the
/// implementation's own handler, in the same state. Out-of-process instances implement it (see
/// docs/protocol.md, "Pipelining"); in-process ones need not, and a check that announces its
/// queries works the same without it.
/// </summary>
public interface IQueryPrefetch
{
    void Prefetch(ReadOnlySpan<PureQuery> queries);
}

/// <summary>Announces pure queries to an instance that can prefetch them; does nothing for any other.</summary>
public static class QueryPrefetch
{
    public static void Announce(object implementation, ReadOnlySpan<PureQuery> queries)
    {
        if (implementation is IQueryPrefetch prefetch) prefetch.Prefetch(queries);
    }
}
