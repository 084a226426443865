using KernelMm.Examples.ReferenceServer;

// kmm-reference-server: the C# reference implementation served over the out-of-process protocol.
//   --fault NAME     serve a deliberately broken variant (Faults.cs lists them)
//   --protocol N     speak protocol N at most (to exercise version negotiation)
string? fault = null;
int? maxVersion = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--fault" when i + 1 < args.Length: fault = args[++i]; break;
        case "--protocol" when i + 1 < args.Length && int.TryParse(args[i + 1], out int v): maxVersion = v; i++; break;
        default:
            Console.Error.WriteLine($"usage: kmm-reference-server [--fault {string.Join("|", Faults.Names)}] [--protocol N]; unknown argument '{args[i]}'");
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
return new Server(new LineChannel(input, output), fault, maxVersion).Run();
