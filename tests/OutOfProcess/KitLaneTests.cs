using System.Diagnostics;
using System.Text;
using System.Text.Json;
using KernelMm.Conformance.OutOfProcess;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>
/// The kits' protocol-5 CPU lanes (docs/protocol.md, "The C kit" and "The Python kit": a request with
/// "cpu":k runs on lane k's own thread, one without "cpu" is a barrier), driven with raw protocol lines, without the
/// runner: each lane's answers keep its order and carry "ns":[t0,t1] from CLOCK_MONOTONIC; a barrier's answer comes
/// after every earlier answer and before every later one; lanes really run at the same time (a rendezvous that only
/// concurrent lanes can meet); references stay within a lane; a bad "cpu" is answered invalid "cpu". Every check is
/// an ordering or a value, none a duration, so a loaded machine cannot fail them.
/// </summary>
[Collection("OutOfProcess")]
public class KitLaneTests(NativePrograms programs)
{
    private static readonly Lazy<string> RendezvousC = new(() =>
        LaneProgram.Compile([Path.Combine(NativePrograms.FindRoot(), "tests", "OutOfProcess", "Lanes", "rendezvous.c")], "rendezvous"));

    /// <summary>The programs by kit: c-buddy (4 lanes) and py-buddy (2 lanes), both declaring AtomicT and Smp.</summary>
    private string[] Buddy(string kit) => kit == "c"
        ? [programs.Buddy]
        : ["python3", Path.Combine(NativePrograms.FindRoot(), "examples", "py-buddy", "buddy.py")];

    private static int Lanes(string kit) => kit == "c" ? 4 : 2;

    [Theory]
    [InlineData("c")]
    [InlineData("python")]
    public void Hello_DeclaresAtomicTSmpAndCpus_OnlyWhenProtocol5IsOffered(string kit)
    {
        using (var wire = new LaneProgram(Buddy(kit)))
        {
            var hello = wire.Hello();
            Assert.Equal(5, hello.GetProperty("protocol").GetInt32());
            var caps = hello.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()).ToList();
            Assert.Contains("AtomicT", caps);
            Assert.Contains("Smp", caps);
            Assert.Equal(Lanes(kit), hello.GetProperty("cpus").GetInt32());
        }
        using (var wire = new LaneProgram(Buddy(kit)))
        {
            var hello = wire.Hello(versions: "[1,2,3,4]");
            Assert.Equal(4, hello.GetProperty("protocol").GetInt32());
            var caps = hello.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()).ToList();
            Assert.DoesNotContain("AtomicT", caps);
            Assert.DoesNotContain("Smp", caps);
            Assert.False(hello.TryGetProperty("cpus", out _));
            // Without lanes a request carrying "cpu" is refused, naming the field.
            wire.Send("""{"id":2,"op":"freeBlocks","zone":"Normal","order":0,"cpu":0}""");
            AssertInvalidCpu(wire.Next(), 2);
        }
    }

    [Theory]
    [InlineData("c")]
    [InlineData("python")]
    public void LaneAnswers_KeepTheirLanesOrder_CarryMonotonicNs_AndBarriersWaitForEveryEarlierAnswer(string kit)
    {
        const int PerLane = 40;
        int lanes = Lanes(kit);
        using var wire = new LaneProgram(Buddy(kit));
        wire.Hello();
        long before = LaneProgram.MonotonicNs();
        // Two rounds: every lane increments its own counter PerLane times (pipelined, one burst), then a barrier
        // reads every counter; ids rise through the whole burst.
        var lines = new List<string>();
        var barriers = new List<long>();
        long id = 10;
        for (int round = 0; round < 2; round++)
        {
            for (int i = 0; i < PerLane; i++)
                for (int k = 0; k < lanes; k++)
                    lines.Add($$"""{"id":{{id++}},"op":"atomicIncReturn","v":{{k}},"cpu":{{k}}}""");
            for (int k = 0; k < lanes; k++)
            {
                barriers.Add(id);
                lines.Add($$"""{"id":{{id++}},"op":"atomicRead","v":{{k}}}""");
            }
        }
        wire.Send([.. lines]);
        var answers = wire.Next(lines.Count);
        long after = LaneProgram.MonotonicNs();

        Assert.All(answers, a => Assert.True(a.GetProperty("ok").GetBoolean(), a.ToString()));
        var position = answers.Select((a, i) => (Id: a.GetProperty("id").GetInt64(), i)).ToDictionary(p => p.Id, p => p.i);
        Assert.Equal(lines.Count, position.Count);
        // A barrier comes after every earlier request's answer and before every later one's; it has no "ns".
        foreach (long b in barriers)
        {
            Assert.All(position.Where(p => p.Key < b), p => Assert.True(p.Value < position[b], $"answer {p.Key} after barrier {b}"));
            Assert.All(position.Where(p => p.Key > b), p => Assert.True(p.Value > position[b], $"answer {p.Key} before barrier {b}"));
            Assert.False(answers[position[b]].TryGetProperty("ns", out _));
        }
        Assert.Equal(Enumerable.Repeat((long)PerLane, lanes).Concat(Enumerable.Repeat(2L * PerLane, lanes)),
                     barriers.Select(b => answers[position[b]].GetProperty("value").GetInt64()));
        // Each lane: its answers in its request order (values 1, 2, ...), each with ns [t0, t1] on the test's own
        // CLOCK_MONOTONIC, t0 <= t1, and a lane's next call starting after its previous one ended.
        for (int k = 0; k < lanes; k++)
        {
            var mine = answers.Where(a => a.TryGetProperty("ns", out _) && Lane(a, PerLane, lanes) == k).ToList();
            Assert.Equal(2 * PerLane, mine.Count);
            Assert.Equal(Enumerable.Range(1, 2 * PerLane).Select(v => (long)v), mine.Select(a => a.GetProperty("value").GetInt64()));
            long last = before;
            foreach (var a in mine)
            {
                var ns = a.GetProperty("ns").EnumerateArray().Select(t => t.GetInt64()).ToArray();
                Assert.Equal(2, ns.Length);
                Assert.True(last <= ns[0] && ns[0] <= ns[1] && ns[1] <= after, $"lane {k}: {a} (previous end {last}, window {before}..{after})");
                last = ns[1];
            }
        }
    }

    // The lane of a lane answer of the burst above: in each round, requests went round-robin over the lanes from id 10.
    private static int Lane(JsonElement answer, int perLane, int lanes) =>
        (int)((answer.GetProperty("id").GetInt64() - 10) % ((long)perLane * lanes + lanes) % lanes);

    [Theory]
    [InlineData("c")]
    [InlineData("python")]
    public void Lanes_RunAtTheSameTime(string kit)
    {
        // Each of 4 lanes calls atomic_inc_return(4), a rendezvous that answers 4 only once all four callers are
        // inside it at once (and -1 after 20 s alone): a kit that ran lanes one after another could not pass.
        string[] command = kit == "c" ? [RendezvousC.Value]
            : ["python3", Path.Combine(NativePrograms.FindRoot(), "tests", "OutOfProcess", "Lanes", "rendezvous.py")];
        using var wire = new LaneProgram(command);
        Assert.Equal(4, wire.Hello().GetProperty("cpus").GetInt32());
        wire.Send([.. Enumerable.Range(0, 4).Select(k => $$"""{"id":{{10 + k}},"op":"atomicIncReturn","v":4,"cpu":{{k}}}""")]);
        var answers = wire.Next(4);
        Assert.All(answers, a => Assert.Equal(4, a.GetProperty("value").GetInt64()));
        var ns = answers.Select(a => a.GetProperty("ns").EnumerateArray().Select(t => t.GetInt64()).ToArray()).ToList();
        Assert.True(ns.Max(t => t[0]) <= ns.Min(t => t[1]), "the four calls' intervals share an instant");
    }

    [Theory]
    [InlineData("c")]
    [InlineData("python")]
    public void References_NameOnlyTheLanesOwnAnswersAndBarriers_WhileABarrierNamesAny(string kit)
    {
        using var wire = new LaneProgram(Buddy(kit));
        wire.Hello();
        wire.Send(
            """{"id":10,"op":"getFreePages","gfp":1,"order":0,"cpu":0}""",
            """{"id":11,"op":"virtToPhys","addr":{"answer":10},"cpu":0}""",         // the lane's own earlier answer
            """{"id":12,"op":"getFreePages","gfp":1,"order":0,"cpu":1}""",
            """{"id":13,"op":"virtToPhys","addr":{"answer":12},"cpu":0}""",         // lane 1's answer: never visible to lane 0
            """{"id":14,"op":"getFreePages","gfp":1,"order":0}""",                  // a barrier
            """{"id":15,"op":"virtToPhys","addr":{"answer":14,"add":1},"cpu":1}""", // a barrier's answer: visible to every lane
            """{"id":16,"op":"freePages","addr":{"answer":12},"order":0}""",        // a barrier names any earlier answer
            """{"id":17,"op":"freePages","addr":{"answer":10},"order":0,"cpu":0}""");
        var byId = wire.Next(8).ToDictionary(a => a.GetProperty("id").GetInt64());
        ulong Address(long id) => Convert.ToUInt64(byId[id].GetProperty("value").GetString(), 16);
        Assert.NotEqual(0UL, Address(10));
        Assert.NotEqual(0UL, Address(12));
        Assert.NotEqual(0UL, Address(14));
        var error13 = byId[13].GetProperty("error");
        Assert.Equal("invalid", error13.GetProperty("kind").GetString());
        Assert.Equal("addr", error13.GetProperty("parameter").GetString());
        Assert.Contains("request 12", error13.GetProperty("message").GetString());
        Assert.Equal(Address(14) - 0xC000_0000UL + 1, Address(15));
        Assert.True(byId[16].GetProperty("ok").GetBoolean(), byId[16].ToString());
        Assert.True(byId[17].GetProperty("ok").GetBoolean(), byId[17].ToString());
        Assert.Equal(Address(10) - 0xC000_0000UL, Address(11));
    }

    [Theory]
    [InlineData("c")]
    [InlineData("python")]
    public void ABadCpu_IsAnsweredInvalidCpu_AndTheProgramGoesOn(string kit)
    {
        int lanes = Lanes(kit);
        using var wire = new LaneProgram(Buddy(kit));
        wire.Hello();
        string[] bad = [$"{lanes}", "-1", "\"0\"", "1.5", "true", "null", "[0]"];
        wire.Send([.. bad.Select((cpu, i) => $$"""{"id":{{20 + i}},"op":"atomicRead","v":0,"cpu":{{cpu}}}""")]);
        for (int i = 0; i < bad.Length; i++) AssertInvalidCpu(wire.Next(), 20 + i);
        wire.Send("""{"id":30,"op":"hello","cpu":0}""");
        AssertInvalidCpu(wire.Next(), 30);
        wire.Send("""{"id":31,"op":"atomicAddReturn","i":7,"v":0,"cpu":1}""");
        var good = wire.Next();
        Assert.Equal(7, good.GetProperty("value").GetInt64());
        Assert.True(good.TryGetProperty("ns", out _));
    }

    [Fact]
    public void CKit_AnErrorBeforeAnyAnswerIsBegun_KeepsThePreviousAnswerOfItsBatch()
    {
        // A malformed line answered in the same batch as a good request once overwrote that request's answer.
        using var wire = new LaneProgram([programs.Buddy]);
        wire.Hello(versions: "[1,2,3,4]");
        wire.Send("""{"id":2,"op":"getFreePages","gfp":1,"order":0}""", """{"id":3,"op":"bogus""", """{"id":4,"op":"sleeps"}""");
        var answers = wire.Next(3);
        Assert.Equal([2L, 3L, 4L], answers.Select(a => a.GetProperty("id").GetInt64()));
        Assert.True(answers[0].GetProperty("ok").GetBoolean());
        Assert.Equal("request", answers[1].GetProperty("error").GetProperty("parameter").GetString());
    }

    private static void AssertInvalidCpu(JsonElement answer, long id)
    {
        Assert.Equal(id, answer.GetProperty("id").GetInt64());
        Assert.False(answer.GetProperty("ok").GetBoolean(), answer.ToString());
        var error = answer.GetProperty("error");
        Assert.Equal("invalid", error.GetProperty("kind").GetString());
        Assert.Equal("cpu", error.GetProperty("parameter").GetString());
    }
}

/// <summary>A program driven with raw protocol lines (one JSON object per line each way).</summary>
internal sealed class LaneProgram : IDisposable
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "oop-lanes", $"{Environment.ProcessId}");
    private readonly Process _process;

    public LaneProgram(string[] command)
    {
        _process = PipedProcess.Start(command);
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
    }

    /// <summary>The test's CLOCK_MONOTONIC in nanoseconds (Stopwatch's clock on Linux), as the kits report "ns".</summary>
    public static long MonotonicNs() => (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));

    /// <summary>hello with x86-32/64M, offering <paramref name="versions"/>; the answer, which must be ok.</summary>
    public JsonElement Hello(string versions = "[1,2,3,4,5]")
    {
        string profile = Encoding.UTF8.GetString(HelloProfile.Json(Profiles.X86_32.WithMemory(64UL << 20)));
        Send($$"""{"id":1,"op":"hello","protocol":1,"versions":{{versions}},"profile":{{profile}}}""");
        var hello = Next();
        Assert.True(hello.GetProperty("ok").GetBoolean(), hello.ToString());
        return hello;
    }

    public void Send(params string[] lines)
    {
        _process.StandardInput.Write(string.Join("\n", lines) + "\n");
        _process.StandardInput.Flush();
    }

    public JsonElement Next()
    {
        // A program that never answers is killed after a minute: the read then ends, and the test fails.
        using var watchdog = new Timer(_ => { try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } }, null, 60_000, Timeout.Infinite);
        var line = _process.StandardOutput.ReadLine();
        Assert.True(line is not null, "the program ended (or was killed after 60 s) before answering");
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    public List<JsonElement> Next(int count) => Enumerable.Range(0, count).Select(_ => Next()).ToList();

    public void Dispose()
    {
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(10_000)) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { }
        catch (IOException) { }
        _process.Dispose();
    }

    /// <summary>Compiles a program on the C kit with gcc -O2 -pthread into the test output (once per test process).</summary>
    public static string Compile(string[] sources, string name, params string[] defines)
    {
        Directory.CreateDirectory(Dir);
        string output = Path.Combine(Dir, name);
        string kit = Path.Combine(NativePrograms.FindRoot(), "kits", "c");
        var psi = new ProcessStartInfo("gcc") { RedirectStandardError = true };
        foreach (var a in new[] { "-O2", "-std=c11", "-Wall", "-Wextra", "-pthread", $"-I{kit}", "-o", output }.Concat(defines).Concat(sources).Append(Path.Combine(kit, "kmm.c")))
            psi.ArgumentList.Add(a);
        using var gcc = Process.Start(psi)!;
        string errors = gcc.StandardError.ReadToEnd();
        gcc.WaitForExit();
        if (gcc.ExitCode != 0 || errors.Length > 0) throw new InvalidOperationException($"gcc for {name}:\n{errors}");
        return output;
    }
}
