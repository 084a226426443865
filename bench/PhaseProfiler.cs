using System.Diagnostics;
using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using KernelMm.Conformance.Checking;
using KernelMm.Conformance.Families.Pages;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Benchmarks;

/// <summary>
/// <c>--phases</c>: splits a conformance run into its parts with Stopwatches, from outside the
/// engine (nothing in the engine is changed):
/// <list type="number">
/// <item>plain PropertyRunner runs, as the benchmark measures them, with checks, bytes, GC pauses and exceptions counted;</item>
/// <item>interleaved with them, the same runs (same family name, so the same seed and sequences) through
/// a family wrapper that times FsCheck generation, shrinking and PageFamily.Execute, and a factory
/// that times boots; the rest is FsCheck's runner;</item>
/// <item>the reference alone on the same sequences' allocator traffic, without model or checks (an
/// estimate: allocations, frees, context changes and the bulk scenarios only);</item>
/// <item>plain runs again with the runtime's GCAllocationTick events summed by type.</item>
/// </list>
/// </summary>
internal static class PhaseProfiler
{
    public static int Run(string[] args)
    {
        int runs = int.Parse(Program.Option(args, "--runs") ?? "20", CultureInfo.InvariantCulture);
        var settings = Workloads.ConformanceSettings();
        var profile = Workloads.Profile;

        // Warm up (tiered JIT with dynamic PGO needs several seconds on two cores) for about four seconds.
        var timed = new TimedFamily(new PageFamily());
        var factory = new TimingFactory();
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 4)
        {
            Workloads.RunPageFamily(settings);
            KernelMm.Conformance.Running.PropertyRunner.Run(timed, factory, profile, settings, new HashSet<string>());
        }
        timed.Reset();
        factory.Reset();

        // 1. The plain run, as the benchmark measures it, and 2. the same run (same family name, so
        // the same derived seed and the same sequences) with generation, boots and Execute timed by
        // wrappers around the family and the factory. Interleaved, so that both see the same load.
        long ops = 0, checks = 0, allocated = 0, timedOps = 0, exceptions = 0;
        var gcPause = TimeSpan.Zero;
        int gen0 = 0, gen1 = 0, gen2 = 0;
        EventHandler<System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs> count = (_, _) => exceptions++;
        var plain = new Stopwatch();
        var total = new Stopwatch();
        for (int r = 0; r < runs; r++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var pauseBefore = GC.GetTotalPauseDuration();
            int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
            AppDomain.CurrentDomain.FirstChanceException += count;
            plain.Start();
            var outcome = Workloads.RunPageFamily(settings);
            plain.Stop();
            AppDomain.CurrentDomain.FirstChanceException -= count;
            gcPause += GC.GetTotalPauseDuration() - pauseBefore;
            gen0 += GC.CollectionCount(0) - g0; gen1 += GC.CollectionCount(1) - g1; gen2 += GC.CollectionCount(2) - g2;
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            ops += outcome.Operations;
            checks += outcome.Checks.Values.Sum();

            total.Start();
            timedOps += KernelMm.Conformance.Running.PropertyRunner.Run(timed, factory, profile, settings, new HashSet<string>()).Operations;
            total.Stop();
        }

        // 3. The reference alone on the same sequences' allocator traffic (no model, no snapshots, no checks).
        var sequences = timed.Sequences.Take(timed.Sequences.Count / runs).ToList();
        var rawClock = new Stopwatch();
        long rawCalls = 0;
        for (int r = 0; r < runs; r++)
            foreach (var seq in sequences)
            {
                using var k = new ReferenceKernel(profile);
                rawClock.Start();
                rawCalls += ReplayRaw(k, seq, profile);
                rawClock.Stop();
            }

        // 4. Plain runs again with the runtime's allocation sampling listened to (GCAllocationTick:
        //    about one event per 100 KB allocated, naming the type). Not timed: the listener costs.
        Dictionary<string, long> byType;
        using (var allocs = new AllocationListener())
        {
            for (int r = 0; r < runs; r++) Workloads.RunPageFamily(settings);
            Thread.Sleep(500); // let the listener's dispatch thread drain
            byType = allocs.Snapshot();
        }

        double Ms(TimeSpan t) => t.TotalMilliseconds / runs;
        double Pct(TimeSpan t) => 100 * t.TotalMilliseconds / total.Elapsed.TotalMilliseconds;
        var other = total.Elapsed - timed.Generation - timed.Execution - factory.Elapsed - timed.Shrinking;
        Console.WriteLine($"Conformance phases: page family on {profile.Label}, {settings.Sequences} sequences, seed {settings.Seed}; " +
                          $"averages over {runs} runs; {Environment.ProcessorCount} logical CPU(s), .NET {Environment.Version}");
        Console.WriteLine();
        Console.WriteLine($"  plain PropertyRunner.Run            {Ms(plain.Elapsed),8:N2} ms/run  {ops / runs,8:N0} checked ops/run  {ops / plain.Elapsed.TotalSeconds,10:N0} ops/s");
        Console.WriteLine($"    {checks / (double)ops,5:N1} checks (CheckScope.That calls) per checked op, {allocated / (double)ops,7:N0} bytes allocated per checked op");
        Console.WriteLine($"    GC pauses {gcPause.TotalMilliseconds / runs,6:N2} ms/run ({100 * gcPause.TotalMilliseconds / plain.Elapsed.TotalMilliseconds:N1} % of the run; gen0/1/2 per run {gen0 / (double)runs:N1}/{gen1 / (double)runs:N1}/{gen2 / (double)runs:N1})");
        Console.WriteLine($"    exceptions thrown {exceptions / runs,6:N0} per run ({exceptions / (double)ops:N2} per checked op; refused calls raise exceptions by contract)");
        Console.WriteLine($"  instrumented run                    {Ms(total.Elapsed),8:N2} ms/run  {timedOps / runs,8:N0} checked ops/run  {timedOps / total.Elapsed.TotalSeconds,10:N0} ops/s   100 %");
        Console.WriteLine($"    FsCheck generation (PageGen)      {Ms(timed.Generation),8:N2} ms/run  {timed.Generated / runs,8:N0} sequences  {timed.Steps / runs,8:N0} steps     {Pct(timed.Generation),5:N1} %");
        Console.WriteLine($"    boots (factory.Create)            {Ms(factory.Elapsed),8:N2} ms/run  {factory.Count / runs,8:N0} boots      {factory.Elapsed.TotalMicroseconds / Math.Max(1, factory.Count),8:N1} us/boot   {Pct(factory.Elapsed),5:N1} %");
        Console.WriteLine($"    PageFamily.Execute (checks + ref) {Ms(timed.Execution),8:N2} ms/run  {timed.Execution.TotalNanoseconds / Math.Max(1, timedOps),8:N0} ns/checked op                {Pct(timed.Execution),5:N1} %");
        Console.WriteLine($"    shrinking                         {Ms(timed.Shrinking),8:N2} ms/run  {timed.ShrinkCalls / runs,8:N0} shrinker calls                {Pct(timed.Shrinking),5:N1} %");
        Console.WriteLine($"    FsCheck runner, rest              {Ms(other),8:N2} ms/run                                        {Pct(other),5:N1} %");
        Console.WriteLine($"  reference alone, same traffic       {rawClock.Elapsed.TotalMilliseconds / runs,8:N2} ms/run  {rawCalls / runs,8:N0} calls/run  {rawClock.Elapsed.TotalNanoseconds / Math.Max(1, rawCalls),8:N0} ns/call" +
                          $"  => {100 * rawClock.Elapsed.TotalMilliseconds / Math.Max(1e-9, timed.Execution.TotalMilliseconds),4:N0} % of Execute");
        Console.WriteLine();
        long sampled = byType.Sum(t => t.Value);
        Console.WriteLine($"  allocations by type (GCAllocationTick samples, plain runs; {sampled / 1e6:N0} MB sampled; {allocated / 1e6:N0} MB allocated in step 1):");
        foreach (var (type, bytes) in byType.OrderByDescending(t => t.Value).Take(12))
            Console.WriteLine($"    {100.0 * bytes / Math.Max(1, sampled),5:N1} %  {type}");
        return 0;
    }

    /// <summary>Listens to the runtime's GCAllocationTick events (about one per 100 KB allocated) and sums them by type.</summary>
    private sealed class AllocationListener : System.Diagnostics.Tracing.EventListener
    {
        private readonly Dictionary<string, long> _bytes = new();

        protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
                EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1 /* GC */);
        }

        protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
        {
            if (e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
            int iType = e.PayloadNames!.IndexOf("TypeName"), iAmount = e.PayloadNames.IndexOf("AllocationAmount64");
            if (iAmount < 0) iAmount = e.PayloadNames.IndexOf("AllocationAmount");
            string type = iType >= 0 ? e.Payload[iType]?.ToString() ?? "?" : "?";
            long amount = iAmount >= 0 ? Convert.ToInt64(e.Payload[iAmount], CultureInfo.InvariantCulture) : 0;
            lock (_bytes) _bytes[type] = _bytes.GetValueOrDefault(type) + amount;
        }

        public Dictionary<string, long> Snapshot() { lock (_bytes) return new(_bytes); }
    }

    /// <summary>PageFamily with Stopwatches around generation, shrinking and Execute; keeps the generated sequences.</summary>
    private sealed class TimedFamily(PageFamily inner) : KernelMm.Conformance.Running.ConformanceFamily<PageOp>
    {
        private readonly Stopwatch _gen = new(), _exec = new(), _shrink = new();
        public List<PageOp[]> Sequences { get; } = new();

        public void Reset()
        {
            _gen.Reset(); _exec.Reset(); _shrink.Reset();
            Sequences.Clear();
            Generated = Steps = ShrinkCalls = 0;
        }
        public TimeSpan Generation => _gen.Elapsed;
        public TimeSpan Execution => _exec.Elapsed;
        public TimeSpan Shrinking => _shrink.Elapsed;
        public long Generated { get; private set; }
        public long Steps { get; private set; }

        public override string Name => inner.Name;
        public override IReadOnlyList<string> RuleIds => inner.RuleIds;
        public override Capability Gate => inner.Gate;
        public override string PrimaryRule => inner.PrimaryRule;

        // Start the clock in a generator that runs just before the real one (bind order), stop it after.
        public override Gen<PageOp[]> Generator(Profile profile) =>
            from _ in Gen.Constant(0).Select(x => { _gen.Start(); return x; })
            from seq in inner.Generator(profile)
            select Stop(seq);

        private PageOp[] Stop(PageOp[] seq)
        {
            _gen.Stop();
            Generated++;
            Steps += seq.Length;
            Sequences.Add(seq);
            return seq;
        }

        public long ShrinkCalls { get; private set; }

        // Lazy like the real shrinker: only the candidates FsCheck asks for are produced (and timed).
        public override IEnumerable<PageOp[]> Shrink(PageOp[] ops)
        {
            ShrinkCalls++;
            using var e = inner.Shrink(ops).GetEnumerator();
            while (true)
            {
                _shrink.Start();
                bool more = e.MoveNext();
                _shrink.Stop();
                if (!more) yield break;
                yield return e.Current;
            }
        }

        public override void Execute(IMemoryManager mm, PageOp[] ops, CheckScope scope, KernelMm.Conformance.Checking.Trace trace)
        {
            _exec.Start();
            try { inner.Execute(mm, ops, scope, trace); }
            finally { _exec.Stop(); }
        }
    }

    /// <summary>
    /// Replays the allocator traffic of a sequence directly, as a rough lower bound of the time the
    /// reference itself needs: allocations and frees (Exhaust and Fragment expanded), context changes.
    /// </summary>
    private static long ReplayRaw(ReferenceKernel k, PageOp[] seq, Profile p)
    {
        var live = new List<(ulong Addr, PageHandle Page, int Order)>();
        long calls = 0;
        int preempt = 0, irq = 0;
        bool Alloc(PageOpKind kind, GfpFlags gfp, int order)
        {
            if (order < 0 || order > p.MaxOrder || ((uint)gfp & ~(p.HasGfpBuffer ? 0x1FFu : 0xFFu)) != 0) return false;
            if ((gfp & GfpFlags.DirectReclaim) != 0 && (preempt > 0 || irq > 0)) return false;
            calls++;
            if (kind == PageOpKind.AllocPages)
            {
                var page = k.AllocPages(gfp, order);
                if (page.IsNull) return false;
                live.Add((0, page, order));
            }
            else
            {
                var flags = kind == PageOpKind.GetDmaPages ? gfp | GfpFlags.Dma : gfp;
                ulong a = kind == PageOpKind.GetZeroedPage ? k.GetZeroedPage(flags) : k.GetFreePages(flags, order);
                if (a == 0) return false;
                live.Add((a, default, kind == PageOpKind.GetZeroedPage ? 0 : order));
            }
            return true;
        }
        void Release(int i)
        {
            var b = live[i];
            live.RemoveAt(i);
            calls++;
            if (b.Addr != 0) k.FreePages(b.Addr, b.Order); else k.FreePagesOf(b.Page, b.Order);
        }
        foreach (var op in seq)
        {
            switch (op.Kind)
            {
                case PageOpKind.GetFreePages or PageOpKind.AllocPages or PageOpKind.GetZeroedPage or PageOpKind.GetDmaPages:
                    Alloc(op.Kind, op.Gfp, op.Order); break;
                case PageOpKind.Free:
                    if (live.Count > 0) Release(op.Slot % live.Count); break;
                case PageOpKind.PreemptDisable when preempt < 3: k.PreemptDisable(); preempt++; calls++; break;
                case PageOpKind.PreemptEnable when preempt > 0: k.PreemptEnable(); preempt--; calls++; break;
                case PageOpKind.IrqEnter when irq < 3: k.IrqEnter(); irq++; calls++; break;
                case PageOpKind.IrqExit when irq > 0: k.IrqExit(); irq--; calls++; break;
                case PageOpKind.FillPageCache: k.FillPageCache(op.Arg); calls++; break;
                case PageOpKind.Exhaust:
                {
                    var kind = (op.Gfp & GfpFlags.HighMem) != 0 ? PageOpKind.AllocPages : PageOpKind.GetFreePages;
                    int budget = 4096;
                    for (int order = p.MaxOrder; order >= 0 && budget > 0; order--)
                        while (budget-- > 0 && Alloc(kind, op.Gfp, order)) { }
                    break;
                }
                case PageOpKind.Fragment:
                {
                    int start = live.Count;
                    for (int i = 0; i < 1 << op.Arg; i++) Alloc(PageOpKind.GetFreePages, op.Gfp, 0);
                    for (int i = live.Count - 1; i > start; i -= 2) Release(i);
                    break;
                }
                case PageOpKind.FreeAll:
                    while (live.Count > 0) Release(live.Count - 1);
                    k.DropPageCache(); k.DrainCaches(); calls += 2;
                    break;
            }
        }
        return calls;
    }

    /// <summary>A ReferenceFactory that times and counts boots.</summary>
    private sealed class TimingFactory : IImplementationFactory
    {
        private readonly Stopwatch _clock = new();
        public string Name => "reference (timed)";
        public TimeSpan Elapsed => _clock.Elapsed;
        public long Count { get; private set; }

        public void Reset() { _clock.Reset(); Count = 0; }

        public IMemoryManager? Create(Profile profile)
        {
            _clock.Start();
            var mm = new ReferenceKernel(profile);
            _clock.Stop();
            Count++;
            return mm;
        }
    }
}
