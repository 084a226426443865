using KernelMm.Spec.Profiles;

namespace KernelMm.Spec.Contract;

/// <summary>
/// One booted instance of an implementation under test: a simulated machine with the
/// profile's physical memory. The object also implements the interface of every capability it
/// declares (<see cref="Capabilities.InterfaceFor"/>).
/// </summary>
public interface IMemoryManager : IDisposable
{
    /// <summary>The profile this instance was booted with.</summary>
    Profile Profile { get; }

    /// <summary>What this implementation supports. Anything else is reported "not applicable".</summary>
    IReadOnlySet<Capability> Capabilities { get; }
}

/// <summary>
/// Builds instances of an implementation. The suite boots a fresh instance for every generated
/// sequence.
/// </summary>
public interface IImplementationFactory
{
    /// <summary>A short name for reports.</summary>
    string Name { get; }

    /// <summary>
    /// Boots an instance for <paramref name="profile"/>, or returns null when this implementation
    /// does not support that profile (reported "not applicable" for the profile).
    /// </summary>
    IMemoryManager? Create(Profile profile);
}
