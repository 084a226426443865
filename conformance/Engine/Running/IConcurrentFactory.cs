using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Running;

/// <summary>
/// Optional, for a factory whose instances are independent of each other and that may be asked
/// for several at once from different threads (an out-of-process factory starts one program per
/// instance in use). <see cref="SuiteRunner"/> then runs up to <see cref="MaxConcurrency"/>
/// properties at the same time; the results are the same as a sequential run's.
/// </summary>
public interface IConcurrentFactory : IImplementationFactory
{
    /// <summary>How many instances may be in use at once (1: no concurrency).</summary>
    int MaxConcurrency { get; }
}
