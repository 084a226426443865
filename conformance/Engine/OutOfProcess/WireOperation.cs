using System.Text;
using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>How a request field or an answer value travels on the wire (docs/protocol.md, "Numbers").</summary>
public enum WireType
{
    /// <summary>No value: the answer's "value" is null or absent.</summary>
    None,
    /// <summary>A JSON integer: orders, counts, sizes, lengths.</summary>
    Integer,
    /// <summary>A JSON integer holding the GFP bit mask of spec/Contract/Gfp.cs.</summary>
    Gfp,
    /// <summary>A JSON integer holding the slab flag bit mask of spec/Contract/Slab.cs.</summary>
    SlabFlags,
    /// <summary>A 64-bit quantity as a "0x..." string: addresses, pfns, page and cache handles.</summary>
    Address,
    /// <summary>"DMA", "Normal" or "HighMem".</summary>
    Zone,
    /// <summary>true or false.</summary>
    Boolean,
    /// <summary>A JSON string.</summary>
    Text,
    /// <summary>Bytes as one lowercase hex string, two digits per byte.</summary>
    Bytes,
    /// <summary>A JSON integer 0..255, or null for none (a slab constructor's fill byte).</summary>
    OptionalByte,
    /// <summary>An array of /proc/slabinfo lines (objects, see docs/protocol.md).</summary>
    SlabInfo,
    /// <summary>How the CPU touches an address (spec/Contract/Translation.cs <see cref="Spec.Contract.Access"/>): "KernelRead", "KernelWrite", "UserRead" or "UserWrite" (protocol 3).</summary>
    Access,
    /// <summary>
    /// The result of a page-table walk (<see cref="Spec.Contract.Translation"/>): the physical address as a "0x..." string,
    /// or the fault's name: "NotPresent", "Protection" or "UserAccessToKernel" (protocol 3).
    /// </summary>
    Translation,
    /// <summary>A JSON integer holding the mmap/mprotect PROT_ bit mask (<see cref="Spec.Contract.Prot"/>, Linux's values) (protocol 4).</summary>
    Prot,
    /// <summary>A JSON integer holding the mmap MAP_ flag bit mask (<see cref="Spec.Contract.MapFlags"/>, Linux's values) (protocol 4).</summary>
    MapFlags,
    /// <summary>A JSON integer holding an open(2) access mode: 0 O_RDONLY, 1 O_WRONLY, 2 O_RDWR (<see cref="Spec.Contract.OpenMode"/>) (protocol 4).</summary>
    OpenMode,
    /// <summary>A JSON array of "0x..." strings: page handles, in order (a driver's page list) (protocol 4).</summary>
    Addresses,
    /// <summary>How a user-mode access ended (<see cref="Spec.Contract.UserFault"/>): "None", "MapError", "AccessError", "Bus" or "OutOfMemory" (protocol 4).</summary>
    UserFault,
    /// <summary>
    /// A user-mode load: <c>{"fault":"None","data":"hex"}</c> with exactly len bytes, or <c>{"fault":"MapError"}</c>
    /// (any other fault name; "data" absent or null) (protocol 4).
    /// </summary>
    UserLoad,
    /// <summary>The bytes a copy delivered, as one hex string of 0 to len bytes; their number is the call's result (readFile) (protocol 4).</summary>
    CopiedBytes,
    /// <summary>A result with an out value: <c>{"result":0,"value":"0x2a"}</c> (get_user's return and x) (protocol 4).</summary>
    ResultWithValue,
    /// <summary>
    /// A driver's vma (<see cref="Spec.Contract.DriverVma"/>) or null:
    /// <c>{"vmStart":"0x…","vmEnd":"0x…","vmPgoff":"0x…","vmPageProt":3,"shared":true}</c> (protocol 4).
    /// </summary>
    Vma,
}

/// <summary>One field of a request: its wire name and type, and the contract parameter it carries when the names differ.</summary>
public sealed record WireField(string Name, WireType Type, string? Parameter = null)
{
    /// <summary>The contract method's parameter this field carries (null: none, e.g. the length of a read).</summary>
    public string? ContractParameter => Parameter ?? Name;

    private byte[]? _utf8;
    internal byte[] Utf8Name => _utf8 ??= Encoding.UTF8.GetBytes(Name);
}

/// <summary>A pure query asked about an earlier answer, and the queries asked about its own answer.</summary>
public sealed record FollowUp(WireOperation Operation, params FollowUp[] Then)
{
    /// <summary>The field that carries the earlier answer: the operation's only field.</summary>
    public WireField Field => Operation.Fields.Single();

    /// <summary>
    /// When set, the query is about the last page of the block the call asked for: it refers to the
    /// earlier answer plus 2^order - 1, where order is the call's field of this name
    /// (<c>{"answer":N,"add":K}</c>, feature "offsets"). It is asked only for an order from 1 to 30,
    /// and only of a program that offers the feature.
    /// </summary>
    public string? LastPageOfOrder { get; init; }

    /// <summary>The addend for a call with these arguments: 0 for none, null when the query is not asked.</summary>
    internal long? Addend(WireOperation call, ReadOnlySpan<WireArg> args)
    {
        if (LastPageOfOrder is null) return 0;
        for (int i = 0; i < call.Fields.Count && i < args.Length; i++)
            if (call.Fields[i].Name == LastPageOfOrder)
                return args[i].Number is >= 1 and <= 30 and var order ? (1L << (int)order) - 1 : null;
        return null;
    }
}

/// <summary>
/// One operation of the protocol, declared once (see <see cref="Operations"/>): the runner's
/// adapter sends it from its contract method, the protocol document's operation table, the C
/// kit's callback table and dispatch, and the Python kit's method table are generated from it.
/// Compared by reference: there is one instance per operation.
/// </summary>
public sealed class WireOperation
{
    /// <summary>The "op" string, camelCase of the contract member (getFreePages, kmemCacheCreate).</summary>
    public required string Name { get; init; }
    /// <summary>The capability that carries it; null for the protocol's own requests (snapshot).</summary>
    public required Capability? Capability { get; init; }
    /// <summary>The contract interface that declares the member.</summary>
    public required Type Interface { get; init; }
    /// <summary>The contract member (method or property getter) it carries.</summary>
    public required string Member { get; init; }
    /// <summary>The answer's value.</summary>
    public required WireType Value { get; init; }
    /// <summary>May change the machine's state (everything else is a pure observation the runner may ask ahead of time and cache).</summary>
    public required bool ChangesState { get; init; }
    /// <summary>A pure query whose answer the runner keeps until the next state change (see <see cref="Operations.IsKept"/>).</summary>
    public bool Kept => Operations.IsKept(this);
    /// <summary>The protocol version that introduced it.</summary>
    public required int Since { get; init; }
    /// <summary>Request fields, in the contract's parameter order.</summary>
    public IReadOnlyList<WireField> Fields { get; init; } = [];
    /// <summary>One line for the operation table: what the answer is and the errors the program must raise.</summary>
    public required string Summary { get; init; }
    /// <summary>
    /// Pure queries the suite asks about this operation's answer (the address or handle it returned),
    /// which the runner pipelines right behind it, referring to the answer, when the program offers
    /// the "references" feature (docs/protocol.md, "References"); declared in <see cref="Operations"/>.
    /// </summary>
    public IReadOnlyList<FollowUp> Then => Operations.FollowUpsOf(this);

    /// <summary>The kernel-style name used by the kits: snake_case of <see cref="Name"/> (get_free_pages).</summary>
    public string SnakeName => Snake(Name);

    /// <summary>"IPageAllocator.GetFreePages".</summary>
    public string ContractName => $"{Interface.Name}.{Member}";

    private byte[]? _utf8;
    internal byte[] Utf8Name => _utf8 ??= Encoding.UTF8.GetBytes(Name);

    public static string Snake(string camel)
    {
        var sb = new StringBuilder();
        foreach (char c in camel)
        {
            if (char.IsUpper(c)) { if (sb.Length > 0) sb.Append('_'); sb.Append(char.ToLowerInvariant(c)); }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    public override string ToString() => Name;
}
