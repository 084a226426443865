using KernelMm.Reference;
using FakeMutantControl = StrykerTestDouble.MutantControl;

namespace KernelMm.Tests.Mutation;

/// <summary>
/// <see cref="ActiveMutantSwitch"/> against a stand-in with the shape of Stryker 5.1.0's injected
/// <c>MutantControl</c> (the real one exists only inside a mutated assembly during a run). The tests
/// share the stand-in's static fields: xunit runs one class's tests one after another.
/// </summary>
public sealed class ActiveMutantSwitchTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"kmm-mutant-{Guid.NewGuid():N}.bin");

    private static class OtherShape
    {
#pragma warning disable CS0649
        public static long ActiveMutant;
#pragma warning restore CS0649
    }

    public void Dispose() => File.Delete(_file);

    private void WriteId(int id) => File.WriteAllBytes(_file, BitConverter.GetBytes(id));

    [Fact]
    public void TheIdInTheFile_BecomesTheCachedActiveMutant_AndTheFileIsNoLongerRead()
    {
        WriteId(1234);
        FakeMutantControl.Reset(_file);

        var outcome = ActiveMutantSwitch.Apply(typeof(FakeMutantControl), _file);

        Assert.Equal(1234, FakeMutantControl.ActiveMutant);
        Assert.Equal(string.Empty, FakeMutantControl.CachedPath);
        Assert.True(FakeMutantControl.PathCached);
        Assert.Contains("1234", outcome);

        // The next run reads the file again (the runner has switched mutants).
        WriteId(-1);
        ActiveMutantSwitch.Apply(typeof(FakeMutantControl), _file);
        Assert.Equal(-1, FakeMutantControl.ActiveMutant);
    }

    [Fact]
    public void TheInjectedClass_IsFoundByItsNameInAStrykerNamespace_AndNotInAnUnmutatedAssembly()
    {
        Assert.Equal(typeof(FakeMutantControl), ActiveMutantSwitch.FindMutantControl(typeof(ActiveMutantSwitchTests).Assembly));
        Assert.Null(ActiveMutantSwitch.FindMutantControl(typeof(ReferenceKernel).Assembly));
    }

    [Fact]
    public void DuringCoverageCapture_NothingChanges()
    {
        WriteId(7);
        FakeMutantControl.Reset(_file);
        FakeMutantControl.CaptureCoverage = true;

        ActiveMutantSwitch.Apply(typeof(FakeMutantControl), _file);

        Assert.Equal(-2, FakeMutantControl.ActiveMutant);
        Assert.Equal(_file, FakeMutantControl.CachedPath);
    }

    [Fact]
    public void OutsideStryker_OrWithAnotherShape_OrWithoutAFile_NothingChanges()
    {
        FakeMutantControl.Reset(_file);

        Assert.Contains("unset", ActiveMutantSwitch.Apply(typeof(FakeMutantControl), null));
        Assert.Contains("no Stryker.MutantControl", ActiveMutantSwitch.Apply(null, _file));
        Assert.Contains("another shape", ActiveMutantSwitch.Apply(typeof(OtherShape), _file));
        Assert.Contains("cannot read", ActiveMutantSwitch.Apply(typeof(FakeMutantControl), _file)); // not written yet

        Assert.Equal(-2, FakeMutantControl.ActiveMutant);
        Assert.Equal(_file, FakeMutantControl.CachedPath);
    }
}
