namespace KernelMm.Reference.Mm;

/// <summary>
/// atomic_t (include/linux/atomic.h, arch/x86/include/asm/atomic.h): a fixed array of 32-bit
/// counters, each operation one indivisible read-modify-write, as the LOCK-prefixed instructions
/// x86 uses (LOCK XADD for the _return forms, LOCK DEC + SETE for dec_and_test). Values wrap in two's
/// complement (the kernel builds with -fno-strict-overflow; Interlocked wraps too).
/// </summary>
internal sealed class AtomicCounters(int count)
{
    /// <summary>Counters a machine offers (ATOM-1 needs several; the suite uses up to 3).</summary>
    public const int DefaultCount = 8;

    private readonly int[] _v = new int[count];

    public int Count => _v.Length;

    public int Read(int v) => Volatile.Read(ref _v[v]);
    public void Set(int v, int i) => Volatile.Write(ref _v[v], i);
    // ATOM-1: every update is one Interlocked operation, so no update is ever lost or torn.
    public int AddReturn(int i, int v) => Interlocked.Add(ref _v[v], i);
    public int SubReturn(int i, int v) => Interlocked.Add(ref _v[v], unchecked(-i));
    public int IncReturn(int v) => Interlocked.Increment(ref _v[v]);
    public int DecReturn(int v) => Interlocked.Decrement(ref _v[v]);
    // ATOM-1: the tests look at the value the same indivisible step produced, never at a second read.
    public bool SubAndTest(int i, int v) => SubReturn(i, v) == 0;
    public bool DecAndTest(int v) => DecReturn(v) == 0;
    public bool IncAndTest(int v) => IncReturn(v) == 0;
    public bool AddNegative(int i, int v) => AddReturn(i, v) < 0;
}
