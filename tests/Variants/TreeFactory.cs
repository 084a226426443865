using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Variants;

/// <summary>Boots <see cref="TreeKernel"/> instances, optionally with one <see cref="Fault"/>; supports every profile.</summary>
public sealed class TreeFactory(Fault fault = Fault.None) : IImplementationFactory
{
    public Fault Fault { get; } = fault;
    public string Name => Fault == Fault.None ? "tree" : $"tree/{Fault}";
    public IMemoryManager? Create(Profile profile) => new TreeKernel(profile, Fault);
}
