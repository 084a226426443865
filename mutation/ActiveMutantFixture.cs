using KernelMm.Reference;
using KernelMm.Tests.Mutation;

[assembly: AssemblyFixture(typeof(ActiveMutantFixture))]

namespace KernelMm.Tests.Mutation;

/// <summary>
/// Created by xunit at the start of every test run, before any test class (some boot a kernel in
/// their constructor): caches the mutant Stryker's runner has just made active
/// (<see cref="ActiveMutantSwitch"/>).
/// </summary>
public sealed class ActiveMutantFixture
{
    public ActiveMutantFixture() =>
        Outcome = ActiveMutantSwitch.Apply(
            ActiveMutantSwitch.FindMutantControl(typeof(ReferenceKernel).Assembly),
            Environment.GetEnvironmentVariable(ActiveMutantSwitch.MutantFileVariable));

    /// <summary>What <see cref="ActiveMutantSwitch.Apply"/> did, for a debugger or a test.</summary>
    public string Outcome { get; }
}
