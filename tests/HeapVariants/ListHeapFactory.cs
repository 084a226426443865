using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.HeapVariants;

/// <summary>Boots <see cref="ListHeapKernel"/> instances, optionally with one <see cref="HeapFault"/>; supports every profile.</summary>
public sealed class ListHeapFactory(HeapFault fault = HeapFault.None) : IImplementationFactory
{
    public HeapFault Fault { get; } = fault;
    public string Name => Fault == HeapFault.None ? "list-heap" : $"list-heap/{Fault}";
    public IMemoryManager? Create(Profile profile) => new ListHeapKernel(profile, Fault);
}
