using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Reference;

/// <summary>Boots <see cref="ReferenceKernel"/> instances; supports every profile.</summary>
/// <param name="userPolicy">The user-space choices (placement, swap victims, copy-on-write); the default is today's kernel's.</param>
public sealed class ReferenceFactory(UserSpacePolicy? userPolicy) : IImplementationFactory
{
    /// <summary>Today's kernel's user-space choices (what --impl-assembly and the package load: a public parameterless constructor).</summary>
    public ReferenceFactory() : this(null) { }

    public string Name => userPolicy is null || userPolicy == UserSpacePolicy.Default ? "reference" : "reference (other user-space choices)";
    public IMemoryManager? Create(Profile profile) => new ReferenceKernel(profile) { UserPolicy = userPolicy ?? UserSpacePolicy.Default };
}
