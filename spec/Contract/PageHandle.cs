namespace KernelMm.Spec.Contract;

/// <summary>
/// An opaque handle to a page descriptor (<c>struct page *</c>). The implementation picks
/// the value; the suite only passes it back. <see cref="Null"/> is the NULL pointer.
/// </summary>
public readonly record struct PageHandle(ulong Value)
{
    public static readonly PageHandle Null = default;
    public bool IsNull => Value == 0;
    public override string ToString() => IsNull ? "NULL" : $"page#{Value:x}";
}
