using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Mutation;

/// <summary>
/// The reference's atomic_t, one call at a time: what each operation returns and leaves behind,
/// including the wrap at int.MinValue/MaxValue and the EINVAL of an unknown counter. The atomic
/// family (tests/Parallel) judges the same operations under concurrency, where results vary from run
/// to run; these pin every operation's sequential result deterministically, which is what the
/// mutation run (docs/mutation.md) needs to kill a wrong sign or a wrong comparison.
/// </summary>
public class AtomicTests
{
    private static IAtomicT Boot() => (IAtomicT)new ReferenceFactory().Create(Profiles.X86_32.WithMemory(64UL << 20))!;

    [Fact]
    public void Each_operation_returns_and_leaves_the_documented_value()
    {
        var a = Boot();
        Assert.Equal(8, a.AtomicCounters);
        Assert.Equal(0, a.AtomicRead(3));
        a.AtomicSet(3, 10);
        Assert.Equal(10, a.AtomicRead(3));
        Assert.Equal(0, a.AtomicRead(2)); // counters are independent
        a.AtomicAdd(5, 3);
        Assert.Equal(15, a.AtomicRead(3));
        a.AtomicSub(4, 3);
        Assert.Equal(11, a.AtomicRead(3));
        a.AtomicInc(3);
        Assert.Equal(12, a.AtomicRead(3));
        a.AtomicDec(3);
        Assert.Equal(11, a.AtomicRead(3));
        Assert.Equal(18, a.AtomicAddReturn(7, 3));
        Assert.Equal(15, a.AtomicSubReturn(3, 3));
        Assert.Equal(16, a.AtomicIncReturn(3));
        Assert.Equal(15, a.AtomicDecReturn(3));
        Assert.Equal(15, a.AtomicRead(3));
    }

    [Fact]
    public void The_test_forms_compare_the_new_value_with_zero()
    {
        var a = Boot();
        a.AtomicSet(0, 5);
        Assert.False(a.AtomicSubAndTest(2, 0));
        Assert.True(a.AtomicSubAndTest(3, 0));
        Assert.Equal(0, a.AtomicRead(0));
        a.AtomicSet(0, 2);
        Assert.False(a.AtomicDecAndTest(0));
        Assert.True(a.AtomicDecAndTest(0));
        Assert.False(a.AtomicDecAndTest(0)); // -1
        Assert.True(a.AtomicIncAndTest(0));  // back to 0
        Assert.False(a.AtomicIncAndTest(0)); // 1
        Assert.False(a.AtomicAddNegative(-1, 0)); // 0 is not negative
        Assert.True(a.AtomicAddNegative(-1, 0));  // -1
        Assert.False(a.AtomicAddNegative(2, 0));  // 1
        Assert.Equal(1, a.AtomicRead(0));
    }

    [Fact]
    public void Values_wrap_in_twos_complement()
    {
        var a = Boot();
        a.AtomicSet(1, int.MaxValue);
        Assert.Equal(int.MinValue, a.AtomicIncReturn(1));
        Assert.Equal(int.MaxValue, a.AtomicDecReturn(1));
        Assert.Equal(int.MinValue + 1, a.AtomicAddReturn(2, 1));
        a.AtomicSet(1, 0);
        Assert.Equal(int.MinValue, a.AtomicSubReturn(int.MinValue, 1));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(8)]
    [InlineData(int.MinValue)]
    public void An_unknown_counter_is_einval_and_changes_nothing(int v)
    {
        var a = Boot();
        a.AtomicSet(7, 42);
        Assert.Throws<InvalidArgumentException>(() => a.AtomicRead(v));
        Assert.Throws<InvalidArgumentException>(() => a.AtomicSet(v, 1));
        Assert.Throws<InvalidArgumentException>(() => a.AtomicAddReturn(1, v));
        Assert.Throws<InvalidArgumentException>(() => a.AtomicDecAndTest(v));
        Assert.Equal(42, a.AtomicRead(7));
        Assert.Equal(0, a.AtomicRead(0));
    }
}
