using KernelMm.Conformance.Families.User;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;

namespace KernelMm.Benchmarks;

/// <summary>
/// User-space loops on the reference (x86-32/512M), shared by <see cref="UserBenchmarks"/> and
/// <c>--quick</c>: first-touch page faults, fork of a 1,000-page process, copy_to_user of 64 KiB,
/// and the user family's checked operations.
/// </summary>
public static class UserWorkloads
{
    public const int TouchPages = 4096;
    public const int ForkPages = 1000;
    public const int CopyBytes = 64 * 1024;
    private const ulong Window = 0x1000_0000;
    private static readonly Prot Rw = Prot.Read | Prot.Write;

    /// <summary>One process mapping <see cref="TouchPages"/> fresh anonymous pages, storing one byte to each (one demand-paging fault per page), then unmapping them.</summary>
    public sealed class FirstTouch(ReferenceKernel k)
    {
        private readonly int _pid = k.CreateProcess();
        private readonly byte[] _one = [1];

        public int Run()
        {
            int page = k.Profile.PageSize;
            ulong len = (ulong)TouchPages * (ulong)page;
            k.Mmap(_pid, Window, len, Rw, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed, -1, 0);
            for (ulong va = Window; va < Window + len; va += (ulong)page) k.UserWrite(_pid, va, _one);
            k.Munmap(_pid, Window, len);
            return TouchPages;
        }
    }

    /// <summary>A process holding <see cref="ForkPages"/> written private pages; each run forks it and ends the child (copy-on-write: the page tables are copied, the pages shared).</summary>
    public sealed class ForkExit
    {
        private readonly ReferenceKernel _k;
        private readonly int _pid;

        public ForkExit(ReferenceKernel k)
        {
            _k = k;
            _pid = k.CreateProcess();
            int page = k.Profile.PageSize;
            k.Mmap(_pid, Window, (ulong)ForkPages * (ulong)page, Rw, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed, -1, 0);
            for (int i = 0; i < ForkPages; i++) k.UserWrite(_pid, Window + (ulong)(i * page), [(byte)i]);
        }

        public int Run()
        {
            int child = _k.Fork(_pid);
            _k.Exit(child);
            return 1;
        }
    }

    /// <summary>copy_to_user of 64 KiB from a kernel buffer into a process's resident pages.</summary>
    public sealed class CopyToUser
    {
        private readonly ReferenceKernel _k;
        private readonly int _pid;
        private readonly ulong _kbuf;

        public CopyToUser(ReferenceKernel k)
        {
            _k = k;
            _pid = k.CreateProcess();
            k.Mmap(_pid, Window, CopyBytes, Rw, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed, -1, 0);
            _kbuf = k.GetFreePages(Gfp.Kernel, 4);
            k.Write(_kbuf, new byte[CopyBytes]);
            k.CopyToUser(_pid, Window, _kbuf, CopyBytes);
        }

        public long Run() => _k.CopyToUser(_pid, Window, _kbuf, CopyBytes);
    }

    public const ulong ConformanceSeed = 20250101;

    /// <summary>One property run of the user family on x86-32/512M.</summary>
    public static FamilyOutcome RunUserFamily(int sequences = 50) =>
        PropertyRunner.Run(new UserFamily(), new ReferenceFactory(), Workloads.Profile,
            new RunSettings { Seed = ConformanceSeed, Sequences = sequences, MaxSteps = 60 }, new HashSet<string>());
}
