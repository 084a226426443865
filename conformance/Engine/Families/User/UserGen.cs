using FsCheck;
using FsCheck.Fluent;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Conformance.Families.Shared;

namespace KernelMm.Conformance.Families.User;

/// <summary>
/// Generates and shrinks user-space sequences: processes forked and ended, anonymous, file and
/// device mappings made, cut, reprotected and accessed at generated offsets, invalid calls mixed
/// in, swapping and memory pressure, kernel allocations, and user copies. Weights keep most steps
/// valid and most accesses on live mappings.
/// </summary>
public static class UserGen
{
    private static readonly Prot[] Prots =
    [
        Prot.Read | Prot.Write, Prot.Read | Prot.Write, Prot.Read | Prot.Write, Prot.Read | Prot.Write,
        Prot.Read, Prot.Read, Prot.None, Prot.Write, Prot.Read | Prot.Exec, Prot.Read | Prot.Write | Prot.Exec,
    ];

    private static Gen<int> Slot => Gen.Choose(0, 63);
    private static Gen<int> SeedGen => Gen.Choose(1, 1 << 20);

    public static Gen<UserOp> Op(Profile profile)
    {
        int page = profile.PageSize;
        Gen<int> InPage(int max) => Gen.Choose(0, Math.Max(0, page - max));
        var Shortfall = Gen.Frequency((3, Gen.Constant(0)), (2, Gen.Choose(1, page - 1)));
        var placement = Gen.Frequency(
            (4, Gen.Constant(Placement.Anywhere)), (2, Gen.Constant(Placement.Hint)),
            (4, Gen.Constant(Placement.Fixed)), (2, Gen.Constant(Placement.FixedOver)));
        var share = Gen.Frequency((3, Gen.Constant(MapFlags.Private)), (2, Gen.Constant(MapFlags.Shared)));
        var prot = Gen.Elements(Prots);

        Gen<UserOp> Simple(UserOpKind kind) => Gen.Constant(new UserOp(kind));
        Gen<UserOp> OnProc(UserOpKind kind) => from p in Slot select new UserOp(kind, Proc: p);
        Gen<UserOp> Access(UserOpKind kind) =>
            from p in Slot from t in Slot from pg in Gen.Choose(0, 7) from len in Gen.Frequency((4, Gen.Choose(1, 16)), (1, Gen.Choose(17, 256)))
            from off in InPage(len) from s in SeedGen
            select new UserOp(kind, p, t, pg, off, len, s);

        return Gen.Frequency(
            (3, Simple(UserOpKind.Spawn)),
            (4, OnProc(UserOpKind.Fork)),
            (2, from p in Slot from s in SeedGen select new UserOp(UserOpKind.ForkShare, p, Seed: s)),
            (1, OnProc(UserOpKind.Exit)),
            (1, Simple(UserOpKind.ExitAll)),
            (2, from pages in Gen.Choose(1, 4) from shortfall in Shortfall select new UserOp(UserOpKind.CreateFile, Pages: pages, Length: shortfall)),
            (3, from p in Slot from f in Slot from mode in Gen.Frequency((4, Gen.Constant(2)), (1, Gen.Constant(0)), (1, Gen.Constant(1)))
                select new UserOp(UserOpKind.OpenFile, p, f, Offset: mode)),
            (1, OnProc(UserOpKind.OpenSerial)),
            (2, from p in Slot from f in Slot select new UserOp(UserOpKind.Close, p, f)),
            (2, from f in Slot from off in Gen.Choose(0, 4 * page) from len in Gen.Choose(1, 64) from s in SeedGen
                select new UserOp(UserOpKind.WriteFile, Target: f, Offset: off, Length: len, Seed: s)),
            (10, from p in Slot from t in Slot from pages in Gen.Frequency((3, Gen.Choose(1, 3)), (2, Gen.Choose(4, 8)), (1, Gen.Choose(9, 24)))
                 from shortfall in Shortfall from off in Gen.Choose(0, 1 << 16) from pr in prot from sh in share from pl in placement
                 select new UserOp(UserOpKind.MmapAnon, p, t, pages, off, shortfall, 0, pr, sh | MapFlags.Anonymous, pl)),
            (7, from p in Slot from t in Slot from pages in Gen.Choose(1, 5) from shortfall in Shortfall from off in Gen.Choose(0, 3)
                from pr in prot from sh in share from pl in placement
                select new UserOp(UserOpKind.MmapFile, p, t, pages, off, shortfall, 0, pr, sh, pl)),
            (2, from p in Slot from t in Slot select new UserOp(UserOpKind.Alias, p, t)),
            (8, from p in Slot from v in Gen.Choose(0, 10) select new UserOp(UserOpKind.MmapBad, p, v)),
            (5, from p in Slot from t in Slot from part in Gen.Choose(0, 4) from pages in Gen.Choose(1, 3)
                select new UserOp(UserOpKind.Munmap, p, t, pages, part)),
            (2, from p in Slot from v in Gen.Choose(0, 3) select new UserOp(UserOpKind.MunmapBad, p, v)),
            (5, from p in Slot from t in Slot from part in Gen.Choose(0, 4) from pages in Gen.Choose(1, 3) from pr in prot
                select new UserOp(UserOpKind.Mprotect, p, t, pages, part, Prot: pr)),
            (2, from p in Slot from v in Gen.Choose(0, 4) select new UserOp(UserOpKind.MprotectBad, p, v)),
            (22, Access(UserOpKind.Write)),
            (12, Access(UserOpKind.Read)),
            (3, from p in Slot from v in Gen.Choose(0, 3) from off in Gen.Choose(0, 1 << 16) select new UserOp(UserOpKind.Probe, p, v, Offset: off)),
            (2, OnProc(UserOpKind.Verify)),
            (4, from n in Gen.Choose(1, 64) select new UserOp(UserOpKind.SwapOut, Pages: n)),
            (1, Simple(UserOpKind.Pressure)),
            (2, from kind in Gen.Choose(0, 1) from size in Gen.Choose(8, 2 * page) from s in SeedGen
                select new UserOp(UserOpKind.KernelAlloc, Target: kind, Length: size, Seed: s)),
            (3, from pages in Gen.Choose(1, 4) from odd in Gen.Frequency((1, Gen.Constant(0)), (1, Gen.Choose(1, page - 1))) from s in SeedGen
                select new UserOp(UserOpKind.RegisterRemap, Pages: pages, Length: odd, Seed: s)),
            (3, from pages in Gen.Choose(1, 4) from s in SeedGen select new UserOp(UserOpKind.RegisterPageList, Pages: pages, Seed: s)),
            (5, from p in Slot from d in Slot from pages in Gen.Choose(1, 4) from off in Gen.Choose(0, 3) from pr in Gen.Elements(Prot.Read | Prot.Write, Prot.Read)
                select new UserOp(UserOpKind.MmapDevice, p, d, pages, off, Prot: pr)),
            (2, from d in Slot from pg in Gen.Choose(0, 3) from off in InPage(16) from len in Gen.Choose(1, 16) from s in SeedGen
                select new UserOp(UserOpKind.KernelWriteDevice, Target: d, Pages: pg, Offset: off, Length: len, Seed: s)),
            (3, from p in Slot from t in Slot from pg in Gen.Choose(0, 7) from off in Gen.Choose(0, page - 1) from len in Gen.Choose(1, 3 * page) from s in SeedGen
                select new UserOp(UserOpKind.CopyToUser, p, t, pg, off, len, s)),
            (3, from p in Slot from t in Slot from pg in Gen.Choose(0, 7) from off in Gen.Choose(0, page - 1) from len in Gen.Choose(1, 3 * page)
                select new UserOp(UserOpKind.CopyFromUser, p, t, pg, off, len)),
            (3, from p in Slot from t in Slot from v in Gen.Choose(0, 4) from off in Gen.Choose(0, page - 1) from size in Gen.Elements(1, 2, 4, 8)
                select new UserOp(UserOpKind.GetUser, p, t, v, off, size)),
            (3, from p in Slot from t in Slot from v in Gen.Choose(0, 4) from off in Gen.Choose(0, page - 1) from size in Gen.Elements(1, 2, 4, 8) from s in SeedGen
                select new UserOp(UserOpKind.PutUser, p, t, v, off, size, s)),
            (1, from p in Slot from v in Gen.Choose(0, 2) from len in Gen.Choose(1, 2 * page) select new UserOp(UserOpKind.CopyBad, p, v, Length: len)),
            (1, OnProc(UserOpKind.BigMap)));
    }

    /// <summary>A sequence whose length grows with FsCheck's size parameter; it starts with a process so that most steps have one to act on.</summary>
    /// <remarks>A user-space scene needs a few steps of setup (a process, a file, mappings), so a sequence is at least half its size long.</remarks>
    public static Gen<UserOp[]> Sequence(Profile profile) =>
        Gen.Sized(size => from n in Gen.Choose(Math.Max(1, size / 2), Math.Max(1, size)) from ops in Op(profile).ArrayOf(n)
                          select (UserOp[])[new UserOp(UserOpKind.Spawn), .. ops]);

    /// <summary>Shrinks by removing chunks (halves, quarters, ... single steps), then by simplifying one step.</summary>
    public static IEnumerable<UserOp[]> Shrink(UserOp[] ops) => SequenceShrink.Candidates(ops, Simplify);

    private static IEnumerable<UserOp> Simplify(UserOp op)
    {
        if (op.Proc > 0) yield return op with { Proc = 0 };
        if (op.Target > 0 && op.Kind is not (UserOpKind.MmapBad or UserOpKind.MunmapBad or UserOpKind.MprotectBad or UserOpKind.Probe or UserOpKind.CopyBad or UserOpKind.KernelAlloc))
            yield return op with { Target = 0 };
        if (op.Pages > 1 && op.Kind is UserOpKind.MmapAnon or UserOpKind.MmapFile or UserOpKind.CreateFile or UserOpKind.SwapOut)
            yield return op with { Pages = op.Pages / 2 };
        if (op.Place is Placement.FixedOver or Placement.Hint) yield return op with { Place = Placement.Fixed };
    }
}
