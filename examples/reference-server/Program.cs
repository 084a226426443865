using KernelMm.Examples.ReferenceServer;

// kmm-reference-server: the C# reference implementation served over the out-of-process protocol.
//   --fault NAME     serve a deliberately broken variant (Faults.cs lists them)
//   --protocol N     speak protocol N at most (to exercise version negotiation)
//   --cpus N         CPU lanes to declare and run (protocol 5; default 4; 0 leaves "cpus" out, to exercise the runner's check)
string? fault = null;
int? maxVersion = null;
int cpus = Server.DefaultCpus;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--fault" when i + 1 < args.Length: fault = args[++i]; break;
        case "--protocol" when i + 1 < args.Length && int.TryParse(args[i + 1], out int v): maxVersion = v; i++; break;
        case "--cpus" when i + 1 < args.Length && int.TryParse(args[i + 1], out int n): cpus = n; i++; break;
        default:
            Console.Error.WriteLine($"usage: kmm-reference-server [--fault {string.Join("|", Faults.Names)}] [--protocol N] [--cpus N]; unknown argument '{args[i]}'");
            return 2;
    }
}
if (fault is not null && !Faults.Names.Contains(fault))
{
    Console.Error.WriteLine($"unknown fault '{fault}'; known: {string.Join(", ", Faults.Names)}");
    return 2;
}
using var input = Console.OpenStandardInput();
using var output = Console.OpenStandardOutput();
return new Server(new LineChannel(input, output), fault, maxVersion, cpus).Run();
