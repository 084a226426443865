using System.Diagnostics;
using System.Text;
using System.Text.Json;
using KernelMm.Conformance.OutOfProcess;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>
/// examples/reference-server keeps its last 4096 answers for references (the protocol demands 64). It
/// once cleared them all when the 4097th came in, so a reference inside the burst that crossed that
/// point named a forgotten answer (a spurious PAGE-1 after 4096 answers over the wire). Driven here
/// with raw protocol lines, deterministically: far more than 4096 kept answers in one pipelined burst,
/// each followed by a reference to it and by one to an answer a thousand answers back, which the
/// window boundary crosses many times.
/// </summary>
public class ReferenceServerAnswerWindowTests
{
    private const int Pairs = 3000;
    private const int FarBack = 1000;

    [Fact]
    public async Task References_ToRecentAnswers_SurviveTheWindowBoundary()
    {
        string[] command = ReferenceServerTests.Command();
        using var server = PipedProcess.Start(command);
        try
        {
            // Answers are read while the burst is written: the server writes them as it goes.
            var answers = new List<string>();
            var reader = Task.Run(() =>
            {
                while (server.StandardOutput.ReadLine() is { } line) answers.Add(line);
            });
            var stderr = server.StandardError.ReadToEndAsync();

            var burst = new StringBuilder();
            var profile = Encoding.UTF8.GetString(HelloProfile.Json(Profiles.X86_32.WithMemory(64UL << 20)));
            burst.Append($"{{\"id\":1,\"op\":\"hello\",\"protocol\":1,\"versions\":[1,2,3],\"profile\":{profile}}}\n");
            // Per pair i: pfnToPage (an answer the server keeps), pageToPfn of that answer, pageToPfn of the pfnToPage
            // answer FarBack pairs earlier; three kept answers per pair, 9000 in all, so the 4096-answer window is
            // crossed with references in flight across it.
            var expected = new Dictionary<long, ulong>();
            long id = 2;
            var pageRequest = new long[Pairs];
            for (int i = 0; i < Pairs; i++)
            {
                ulong pfn = Pfn(i);
                pageRequest[i] = id;
                burst.Append($"{{\"id\":{id++},\"op\":\"pfnToPage\",\"pfn\":\"0x{pfn:x}\"}}\n");
                expected[id] = pfn;
                burst.Append($"{{\"id\":{id++},\"op\":\"pageToPfn\",\"page\":{{\"answer\":{pageRequest[i]}}}}}\n");
                if (i >= FarBack)
                {
                    expected[id] = Pfn(i - FarBack);
                    burst.Append($"{{\"id\":{id++},\"op\":\"pageToPfn\",\"page\":{{\"answer\":{pageRequest[i - FarBack]}}}}}\n");
                }
            }
            long last = id;
            burst.Append($"{{\"id\":{last},\"op\":\"shutdown\"}}\n");
            server.StandardInput.Write(burst.ToString());
            server.StandardInput.Close();

            Assert.True(server.WaitForExit(TimeSpan.FromMinutes(2)), "the server did not finish the burst");
            await reader;
            Assert.True(answers.Count == last, $"{answers.Count} answers to {last} requests; stderr: {await stderr}");
            Assert.True(last - 2 > 4096 + 3 * FarBack, $"the burst must outgrow the server's answer window: {last - 2} kept answers");

            int checkedReferences = 0;
            foreach (var line in answers)
            {
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                long answerId = root.GetProperty("id").GetInt64();
                Assert.True(root.GetProperty("ok").GetBoolean(), $"request {answerId} failed: {line}");
                if (!expected.TryGetValue(answerId, out ulong pfn)) continue;
                Assert.Equal($"0x{pfn:x}", root.GetProperty("value").GetString());
                checkedReferences++;
            }
            Assert.Equal(expected.Count, checkedReferences);
            Assert.Equal(0, server.ExitCode);
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
        }
    }

    /// <summary>A different frame per pair (within 64 MiB of 4 KiB pages), so that a reference resolved to a wrong answer shows.</summary>
    private static ulong Pfn(int i) => (ulong)(1 + i % 16000);
}
