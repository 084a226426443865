using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.User;

/// <summary>
/// What the reference's user-space tests share: a fresh x86-32 kernel of 64 MiB per test (disposed
/// after it), the usual protections and flags, and the count of free pages.
/// </summary>
public abstract class UserKernelTests : IDisposable
{
    protected const int Page = 4096;
    protected static readonly Prot Rw = Prot.Read | Prot.Write;
    protected static readonly MapFlags PrivAnon = MapFlags.Private | MapFlags.Anonymous;
    protected readonly ReferenceKernel _k = new(Profiles.X86_32.WithMemory(64UL << 20));

    /// <summary>The lowest address of the user window, where tests place MAP_FIXED mappings.</summary>
    protected ulong Window => _k.Profile.UserWindowStart;

    public void Dispose()
    {
        _k.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Free pages of every zone, in pages.</summary>
    protected long FreePages() => Zones.All.Sum(z => Enumerable.Range(0, _k.Profile.MaxOrder + 1).Sum(o => _k.FreeBlocks(z, o) << o));
}
