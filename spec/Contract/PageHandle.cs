namespace KernelMm.Spec.Contract;

/// <summary>
/// An opaque handle to a page descriptor (<c>struct page *</c>). The implementation picks
/// the value; the suite only passes it back. <see cref="Null"/> is the NULL pointer.
/// </summary>
public readonly record struct PageHandle(ulong Value)
{
    /// <summary>The NULL <c>struct page *</c>: what a failed alloc_pages returns.</summary>
    public static readonly PageHandle Null = default;
    /// <summary>Whether this is <see cref="Null"/>.</summary>
    public bool IsNull => Value == 0;
    /// <summary>"NULL", or "page#" and the value in hex.</summary>
    public override string ToString() => IsNull ? "NULL" : $"page#{Value:x}";
}
