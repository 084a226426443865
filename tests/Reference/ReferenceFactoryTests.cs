using KernelMm.Reference;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Reference;

/// <summary>
/// The factory the suite loads (--impl-assembly, the package): its name, which reports and the
/// failing-seed database show, says whether the user-space choices are today's kernel's, and every
/// machine it boots carries the policy it was given.
/// </summary>
public class ReferenceFactoryTests
{
    private static readonly Profile Small = Profiles.X86_32.WithMemory(16UL << 20);

    [Fact]
    public void TheDefaultPolicy_IsNamedReference_AnyOtherIsNamedApart()
    {
        var bottomUp = UserSpacePolicy.Default with { Layout = MmapLayout.BottomUp };
        Assert.Equal("reference", new ReferenceFactory().Name);
        Assert.Equal("reference", new ReferenceFactory(null).Name);
        Assert.Equal("reference", new ReferenceFactory(new UserSpacePolicy()).Name); // equal to the default
        Assert.Equal("reference (other user-space choices)", new ReferenceFactory(bottomUp).Name);
    }

    [Fact]
    public void EveryMachineItBoots_CarriesItsPolicy()
    {
        var eager = UserSpacePolicy.Default with { EagerForkCopy = true };
        using var withPolicy = Assert.IsType<ReferenceKernel>(new ReferenceFactory(eager).Create(Small));
        using var withDefault = Assert.IsType<ReferenceKernel>(new ReferenceFactory().Create(Small));
        Assert.Same(eager, withPolicy.UserPolicy);
        Assert.Same(UserSpacePolicy.Default, withDefault.UserPolicy);
        Assert.Equal(Small, withPolicy.Profile);
    }
}
