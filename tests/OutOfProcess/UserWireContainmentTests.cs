using System.Text.Json;
using KernelMm.Conformance.OutOfProcess;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using Xunit.Abstractions;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>
/// Robustness of protocol 4: a program that crashes while answering a user operation is reported at
/// that call (the contract boundary holds the remote adapter, get_user's out parameter included), and an
/// answer of the wrong shape for each new answer type is a protocol violation that names the operation
/// and what is wrong.
/// </summary>
[Collection("OutOfProcess")]
public class UserWireContainmentTests(NativePrograms programs, ITestOutputHelper output)
{
    [Fact]
    public void Crash_WhileAnsweringAUserStore_IsReportedAtThatCall()
    {
        string[] command = [programs.Misbehave, "crash", "--op", "userWrite", "--after", "3", "--", .. ReferenceServerTests.Command()];
        using var factory = new ProcessFactory(command);
        var result = SuiteRunner.Run(factory, new SuiteOptions
        {
            Profiles = [Profiles.X86_32],
            MemorySizes = [64UL << 20],
            Families = new HashSet<string> { "user" },
            Settings = new RunSettings { Seed = 5, Sequences = 6, MaxSteps = 40 },
        });
        output.WriteLine(NativePrograms.Describe(result));
        Assert.NotEmpty(result.Failures);
        Assert.All(result.Failures, f =>
        {
            var ce = f.Counterexample!;
            Assert.Contains("crashed", ce.Message);
            Assert.Contains("userWrite", ce.Message);
            // Charged to the check of the call that crashed, which is the last step.
            Assert.StartsWith("user_write", ce.Trace[^1]);
            Assert.Contains("SIGSEGV", ce.Trace[^1]);
            Assert.StartsWith("((IUserMemory)mm).UserWrite", ce.CSharp[^1]);
        });
        Assert.True(factory.Statistics.Faults > 0);
        Assert.True(factory.Statistics.ProcessesStarted > 1);
    }

    /// <summary>A program that declares the user capabilities and answers every request with the value given for its op.</summary>
    private static string[] Answering(Dictionary<string, string> values)
    {
        const string program = """
            import json, sys
            values = json.loads(sys.argv[1])
            for line in sys.stdin:
                r = json.loads(line)
                if r["op"] == "hello":
                    print(json.dumps({"id": r["id"], "ok": True, "protocol": 4, "capabilities": ["PageAllocator", "UserMemory", "UserCopy", "DriverMmap"]}))
                else:
                    print('{"id":%d,"ok":true,"value":%s}' % (r["id"], values.get(r["op"], "null")))
                sys.stdout.flush()
            """;
        return ["python3", "-c", program, JsonSerializer.Serialize(values)];
    }

    public static TheoryData<string, string, string> WrongShapes => new()
    {
        { "userRead", """{"fault":"None"}""", "without \"data\"" },
        { "userRead", """{"fault":"None","data":"00"}""", "2 hex digits, 8 expected" },
        { "userRead", "\"00000000\"", "not an object" },
        { "userWrite", "\"none\"", "unknown fault" },
        { "userWrite", "0", "a fault must be" },
        { "readFile", "\"00000000000000\"", "more than the 4 asked" },
        { "getUser", """{"result":0}""", "without \"value\"" },
        { "getUser", """{"result":99999999999,"value":"0x0"}""", "out of range" },
        { "lastMmap", """{"vmStart":"0x1000"}""", "lacks" },
        { "lastMmap", "[]", "neither an object nor null" },
        { "mmap", "true", "must be an integer" },
    };

    [Theory]
    [MemberData(nameof(WrongShapes))]
    public void AnswerOfTheWrongShape_IsAProtocolViolation_NamingTheOperation(string op, string value, string expected)
    {
        using var factory = new ProcessFactory(Answering(new() { [op] = value }),
            new ProcessFactoryOptions { UseBulkQueries = false, UseReferences = false, CrossCheckSnapshot = false });
        using var mm = factory.Create(Profiles.X86_32.WithMemory(64UL << 20))!;
        Assert.Contains(Capability.UserMemory, mm.Capabilities);
        var user = (IUserMemory)mm;
        Action call = op switch
        {
            "userRead" => () => user.UserRead(1, 0x40000000, new byte[4]),
            "userWrite" => () => user.UserWrite(1, 0x40000000, [1, 2]),
            "readFile" => () => user.ReadFile(1, 0, new byte[4]),
            "getUser" => () => ((IUserCopy)mm).GetUser(1, 0x40000000, 4, out _),
            "lastMmap" => () => ((IDriverMmap)mm).LastMmap(1),
            _ => () => user.Mmap(1, 0, 4096, Prot.Read, MapFlags.Private | MapFlags.Anonymous, -1, 0),
        };
        var e = Assert.Throws<ProtocolViolationException>(call);
        Assert.Contains($"the answer to {op}", e.Message);
        Assert.Contains(expected, e.Message);
    }
}
