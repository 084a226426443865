using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Variants;

/// <summary>
/// Boots <see cref="TreeKernel"/> instances, optionally with one <see cref="Fault"/> and with Linux's
/// per-zone watermarks instead of the profile's pooled reserve; supports every profile.
/// </summary>
public sealed class TreeFactory(Fault fault = Fault.None, bool linuxWatermarks = false) : IImplementationFactory
{
    public Fault Fault { get; } = fault;
    public bool LinuxWatermarks { get; } = linuxWatermarks;
    public string Name => (LinuxWatermarks ? "tree-linux" : "tree") + (Fault == Fault.None ? "" : $"/{Fault}");
    public IMemoryManager? Create(Profile profile) => new TreeKernel(profile, Fault, LinuxWatermarks);
}
