using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Reference;

/// <summary>Boots <see cref="ReferenceKernel"/> instances; supports every profile.</summary>
public sealed class ReferenceFactory : IImplementationFactory
{
    public string Name => "reference";
    public IMemoryManager? Create(Profile profile) => new ReferenceKernel(profile);
}
