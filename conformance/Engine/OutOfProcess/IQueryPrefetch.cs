using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>The pure queries a check can announce before making them.</summary>
public enum PureQueryKind { VirtToPhys, PfnToPage, PageToPfn, PageAddress, PageZone, Read }

/// <summary>One pure query with its argument (an address, a pfn or a page handle; a length for reads).</summary>
public readonly record struct PureQuery(PureQueryKind Kind, ulong Argument, int Length = 0)
{
    public static PureQuery VirtToPhys(ulong addr) => new(PureQueryKind.VirtToPhys, addr);
    public static PureQuery PfnToPage(ulong pfn) => new(PureQueryKind.PfnToPage, pfn);
    public static PureQuery PageToPfn(PageHandle page) => new(PureQueryKind.PageToPfn, page.Value);
    public static PureQuery PageAddress(PageHandle page) => new(PureQueryKind.PageAddress, page.Value);
    public static PureQuery PageZone(PageHandle page) => new(PureQueryKind.PageZone, page.Value);
    public static PureQuery Read(ulong addr, int length) => new(PureQueryKind.Read, addr, length);
}

/// <summary>
/// Optional, for the engine: a booted instance that can answer several upcoming pure queries in one
/// round trip. <see cref="Prefetch"/> asks them all now (pipelined); every later call of the same
/// query with the same argument, until the next state-changing call, is answered from those
/// answers, errors included (a pure query answers the same in the same state). Nothing changes in what the implementation is asked or how it is
/// judged: every answer still comes from the implementation's own handler, in the same state.
/// Out-of-process instances implement it (see docs/protocol.md); in-process ones need not.
/// </summary>
public interface IQueryPrefetch
{
    void Prefetch(ReadOnlySpan<PureQuery> queries);
}
