using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Vm;

/// <summary>
/// translate and tlb_translate take exactly the four accesses the contract defines: the last one
/// (a user write) is an access like the others, any other value is -EINVAL naming the argument
/// (survivors of the whole-reference mutation run, docs/mutation.md: the hostile tests accepted
/// either answer for an out-of-range value).
/// </summary>
public class AccessArgumentTests
{
    [Theory]
    [MemberData(nameof(ReferenceVmHostileTests.ProfileNames), MemberType = typeof(ReferenceVmHostileTests))]
    public void Translate_TakesTheFourAccesses_AndRefusesAnyOtherValue(string profile)
    {
        using var k = new ReferenceKernel(Profiles.Get(profile).WithMemory(64UL << 20));
        ulong area = k.Vmalloc(k.Profile.PageSize);
        foreach (var access in Enum.GetValues<Access>())
        {
            var t = k.Translate(area, access);
            // vmalloc memory is kernel memory: kernel accesses reach it, user accesses fault
            Assert.Equal(access is Access.KernelRead or Access.KernelWrite, t.Fault == TranslationFault.None);
            k.TlbTranslate(area, access);
        }
        foreach (var bad in new[] { (Access)4, (Access)42, (Access)(-1), (Access)int.MaxValue })
        {
            Assert.Equal("access", Assert.Throws<InvalidArgumentException>(() => k.Translate(area, bad)).Parameter);
            Assert.Equal("access", Assert.Throws<InvalidArgumentException>(() => k.TlbTranslate(area, bad)).Parameter);
        }
        k.Vfree(area);
    }
}
