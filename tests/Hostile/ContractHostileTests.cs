using System.Reflection;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Hostile;

/// <summary>
/// Hostile input at the contract boundary of the reference: out-of-range values get the contract's
/// typed errors (<see cref="KernelApiException"/>) or its documented NULL, never a .NET crash
/// (DivideByZero, IndexOutOfRange, Overflow), and leave the machine as it was. A machine used after
/// Dispose fails loudly instead of touching the machine that reuses its page map.
/// </summary>
public sealed class ContractHostileTests
{
    private static ReferenceKernel Boot(Profile? profile = null) => new((profile ?? Profiles.X86_32).WithMemory(64UL << 20));

    public static TheoryData<long, SlabFlags> HugeAlignments => new()
    {
        { 1L << 62, SlabFlags.RedZone },
        { 1L << 62, SlabFlags.None },
        { 1L << 62, SlabFlags.HwcacheAlign | SlabFlags.RedZone },
        { 1L << 40, SlabFlags.RedZone },
        { 1L << 31, SlabFlags.None },
        { long.MinValue, SlabFlags.RedZone },
    };

    [Theory]
    [MemberData(nameof(HugeAlignments))]
    public void KmemCacheCreate_WithAnAlignmentNoSlabCanHold_ReturnsNullOrEinval_AndCreatesNothing(long align, SlabFlags flags)
    {
        var mm = Boot();
        int cachesBefore = mm.SlabInfo().Count;
        SlabCacheHandle handle = default;
        var e = Record.Exception(() => handle = mm.KmemCacheCreate("hostile", 64, align, flags, null));
        Assert.True(e is null or InvalidArgumentException, $"kmem_cache_create(align {align}) raised {e?.GetType().Name}: {e?.Message}");
        Assert.True(handle.IsNull, "no slab can hold an object with that alignment");
        Assert.Equal(cachesBefore, mm.SlabInfo().Count);
    }

    [Fact]
    public void KmemCacheCreate_WithAnAlignmentNoSlabCanHold_AndSlabPanic_Panics()
    {
        var mm = Boot();
        Assert.Throws<KernelPanicException>(() => mm.KmemCacheCreate("hostile", 64, 1L << 62, SlabFlags.RedZone | SlabFlags.Panic, null));
    }

    [Fact]
    public void KmemCacheCreate_LargestAlignmentThatFits_StillWorks()
    {
        var p = Profiles.X86_32;
        var mm = Boot(p);
        long maxBlock = (long)p.PageSize << p.MaxOrder;
        var handle = mm.KmemCacheCreate("big-align", 64, maxBlock, SlabFlags.None, null);
        Assert.False(handle.IsNull);
        ulong obj = mm.KmemCacheAlloc(handle, Gfp.Kernel);
        Assert.NotEqual(0UL, obj);
        Assert.Equal(0UL, obj % (ulong)maxBlock);
    }

    public static TheoryData<int, int> BadZonesAndOrders => new()
    {
        { 3, 0 }, { 7, 0 }, { -1, 0 }, { int.MaxValue, 0 }, { 0, -1 }, { 1, 11 }, { 1, int.MaxValue }, { 0, int.MinValue },
    };

    [Theory]
    [MemberData(nameof(BadZonesAndOrders))]
    public void FreeBlocks_UndefinedZoneOrOrder_IsEinval(int zone, int order)
    {
        var mm = Boot();
        var e = Assert.Throws<InvalidArgumentException>(() => mm.FreeBlocks((Zone)zone, order));
        Assert.Equal(zone is < 0 or > 2 ? "zone" : "order", e.Parameter);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void ReclaimablePages_UndefinedZone_IsEinval(int zone)
    {
        var mm = Boot();
        Assert.Equal("zone", Assert.Throws<InvalidArgumentException>(() => mm.ReclaimablePages((Zone)zone)).Parameter);
    }

    [Fact]
    public void FreeBlocks_EveryDefinedZoneAndOrder_StillAnswers()
    {
        var mm = Boot(Profiles.X86_32.WithMemory(2UL << 30));
        foreach (var zone in Zones.All)
            for (int order = 0; order <= Profiles.X86_32.MaxOrder; order++)
                Assert.True(mm.FreeBlocks(zone, order) >= 0);
        Assert.Equal(0, mm.ReclaimablePages(Zone.HighMem));
    }

    /// <summary>
    /// The preempt and hard-irq counts must never wrap to "not atomic". Nesting as deep as Linux's
    /// fields allow works; beyond, the call is refused (GFP-5) and the CPU stays atomic. Before the
    /// fix the loop ran 2^31 times and the count wrapped negative, so in_atomic() turned false.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void NestingWithoutEnd_NeverWraps_AndIsRefusedAsGfp5(bool preempt)
    {
        var mm = Boot();
        Action enter = preempt ? mm.PreemptDisable : mm.IrqEnter, exit = preempt ? mm.PreemptEnable : mm.IrqExit;
        Func<bool> inside = preempt ? () => mm.InAtomic : () => mm.InInterrupt;
        long depth = 0;
        KernelBugException? refused = null;
        for (long i = 0; i <= (long)int.MaxValue + 1 && refused is null; i++)
        {
            try { enter(); depth++; }
            catch (KernelBugException e) { refused = e; }
            if (!inside()) Assert.Fail($"the CPU left {(preempt ? "atomic" : "interrupt")} context after {depth} nested entries");
        }
        Assert.Equal("GFP-5", refused!.RuleId);
        Assert.True(depth >= 8, "ordinary nesting must work");
        // The refused call changed nothing: exactly depth exits balance it.
        for (long i = 0; i < depth; i++) exit();
        Assert.False(mm.InAtomic);
        Assert.Equal("GFP-5", Assert.Throws<KernelBugException>(() => exit()).RuleId);
    }

    /// <summary>
    /// Seen: a disposed machine's page map is rented by the next machine of the same size, so a
    /// late free through the old instance freed a page of the new one. It must fail loudly instead.
    /// </summary>
    [Fact]
    public void UseAfterDispose_FailsLoudly_AndLeavesTheMachineThatReusedThePageMapAlone()
    {
        var old = Boot();
        old.Dispose();
        var current = Boot();
        var page = current.AllocPages(Gfp.Kernel, 0);
        Assert.False(page.IsNull);
        long freeBefore = current.FreeBlocks(current.PageZone(page), 0);

        Assert.Throws<ObjectDisposedException>(() => old.FreePagesOf(page, 0));
        Assert.Throws<ObjectDisposedException>(() => old.AllocPages(Gfp.Kernel, 0));

        Assert.Equal(freeBefore, current.FreeBlocks(current.PageZone(page), 0));
        current.FreePagesOf(page, 0); // still allocated in the new machine: its own free works once
        Assert.Equal("PAGE-4", Assert.Throws<KernelBugException>(() => current.FreePagesOf(page, 0)).RuleId);
    }

    /// <summary>Every contract member of every capability, called on a disposed machine, raises ObjectDisposedException (new capabilities are covered as they are added).</summary>
    [Fact]
    public void UseAfterDispose_EveryContractMember_RaisesObjectDisposed()
    {
        var mm = Boot();
        mm.Dispose();
        mm.Dispose(); // twice is harmless
        var members = typeof(ReferenceKernel).GetInterfaces()
            .Where(i => i.Namespace == typeof(IMemoryManager).Namespace && i != typeof(IMemoryManager))
            .SelectMany(i => i.GetMethods())
            .ToList();
        Assert.NotEmpty(members);
        var silent = new List<string>();
        foreach (var method in members)
        {
            var args = method.GetParameters().Select(p => DefaultFor(p.ParameterType)).ToArray();
            Exception? thrown = null;
            try { Invoke(mm, method, args); }
            catch (TargetInvocationException e) { thrown = e.InnerException; }
            catch (Exception e) { thrown = e; }
            if (thrown is not ObjectDisposedException) silent.Add($"{method.DeclaringType!.Name}.{method.Name}: {thrown?.GetType().Name ?? "returned normally"}");
        }
        Assert.True(silent.Count == 0, "after Dispose these did not raise ObjectDisposedException:\n" + string.Join("\n", silent));
    }

    private static object? DefaultFor(Type t) =>
        t == typeof(string) ? "x"
        : t.IsByRefLike ? null
        : t.IsValueType ? Activator.CreateInstance(t) : null;

    /// <summary>Span parameters cannot go through reflection's object[]: call those members directly.</summary>
    private static void Invoke(ReferenceKernel mm, MethodInfo method, object?[] args)
    {
        if (method.Name == nameof(IKernelMemory.Read)) { mm.Read(0xC000_0000, new byte[4]); return; }
        if (method.Name == nameof(IKernelMemory.Write)) { mm.Write(0xC000_0000, new byte[4]); return; }
        if (method.Name == nameof(IUserMemory.ReadFile)) { mm.ReadFile(1, 0, new byte[4]); return; }
        if (method.Name == nameof(IUserMemory.WriteFile)) { mm.WriteFile(1, 0, new byte[4]); return; }
        if (method.Name == nameof(IUserMemory.UserRead)) { mm.UserRead(1, 0x1000_0000, new byte[4]); return; }
        if (method.Name == nameof(IUserMemory.UserWrite)) { mm.UserWrite(1, 0x1000_0000, new byte[4]); return; }
        method.Invoke(mm, args);
    }
}
