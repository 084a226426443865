using System.Runtime.CompilerServices;

// The reference's subsystems (Mm/) are internal: the contract is its public face. Its own tests
// and benchmarks reach the subsystems directly (the page tables, the TLB, the ADDR-3 worked example).
[assembly: InternalsVisibleTo("KernelMm.Tests")]
[assembly: InternalsVisibleTo("KernelMm.Benchmarks")]
[assembly: InternalsVisibleTo("KernelMm.Mutation.Tests")]
