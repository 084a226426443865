using System.Buffers;
using System.Reflection;
using System.Text.Json;
using KernelMm.Conformance.OutOfProcess;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Examples.ReferenceServer;

/// <summary>
/// The protocol loop: hello boots a fresh <see cref="ReferenceKernel"/> for the profile; every other
/// request is dispatched from its <see cref="WireOperation"/> in the runner's own operation table
/// (<see cref="Operations"/>): the contract member it names is invoked with the fields converted by
/// their wire types, and the result is written by the operation's answer type. Only the protocol's own
/// requests (hello, snapshot, shutdown) are written out by hand.
/// </summary>
internal sealed class Server(LineChannel channel, string? fault, int? maxVersion, int cpus = Server.DefaultCpus)
{
    /// <summary>CPU lanes declared by default (protocol 5): as many as the suite's CPU pool has.</summary>
    public const int DefaultCpus = 4;
    /// <summary>The lane threads, once a hello of protocol 5 declared AtomicT or Smp.</summary>
    private Lanes? _lanes;
    private IMemoryManager? _mm;
    private Profile? _profile;
    private IReadOnlySet<Capability> _declared = new HashSet<Capability>();
    private readonly HashSet<string> _accepted = [];
    /// <summary>Address and integer answers by request id, for fields that refer to them (feature "references").</summary>
    private readonly Dictionary<long, ulong> _answers = new();
    private readonly Queue<long> _answerOrder = new();
    /// <summary>--fault double-vfree: areas vfreed and not handed out again since.</summary>
    private readonly HashSet<ulong> _vfreed = [];
    private static readonly Dictionary<WireOperation, Invoker> Invokers = Operations.All.ToDictionary(o => o, Invoker.For);

    public int Run()
    {
        while (channel.ReadLine() is { } line)
        {
            // A request on a lane goes to its lane's thread (a copy: the line's buffer is reused by the next read), which
            // parses it: this thread only finds the lane, so that it keeps every lane supplied.
            if (_lanes is { } lanes && LaneOf(line.Span) is { } lane && lane < lanes.Count)
            {
                lanes.Post(lane, line.ToArray());
                continue;
            }
            // Everything else is a barrier: every request handed to a lane is answered first.
            _lanes?.Drain();
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            long id = r.GetProperty("id").GetInt64();
            string op = r.GetProperty("op").GetString() ?? "";
            if (r.TryGetProperty("cpu", out var badCpu))
            {
                var bw = new Utf8JsonWriter(channel.Output);
                bw.WriteStartObject();
                bw.WriteNumber("id", id);
                Error(bw, "invalid", $"\"cpu\" must be a lane from 0 to {(_lanes?.Count ?? 0) - 1}, got {badCpu.GetRawText()}", parameter: "cpu");
                End(bw);
                continue;
            }
            var w = new Utf8JsonWriter(channel.Output);
            w.WriteStartObject();
            w.WriteNumber("id", id);
            switch (op)
            {
                case "hello": Hello(w, r); break;
                case "shutdown":
                    w.WriteBoolean("ok", true);
                    w.WriteNull("value");
                    End(w);
                    channel.Flush();
                    _lanes?.Stop();
                    _mm?.Dispose();
                    return 0;
                case "snapshot": Ok(w); Snapshot(w); break;
                default: Call(w, id, op, r, out _, out _); break;
            }
            End(w);
            // References point back within one burst: forget the oldest answers, never the recent ones.
            lock (_answers)
                while (_answerOrder.Count > 4096) _answers.Remove(_answerOrder.Dequeue());
        }
        channel.Flush();
        _lanes?.Stop();
        _mm?.Dispose();
        return 0;
    }

    /// <summary>The lane of a request as the runner writes it (<c>,"cpu":k}</c> at the end of the line), or null (then it is parsed in full).</summary>
    private static int? LaneOf(ReadOnlySpan<byte> line)
    {
        int at = line.LastIndexOf(",\"cpu\":"u8);
        if (at < 0) return null;
        var digits = line[(at + 7)..];
        if (digits.Length < 2 || digits[^1] != (byte)'}') return null;
        digits = digits[..^1];
        return digits.Length is >= 1 and <= 2 && System.Buffers.Text.Utf8Parser.TryParse(digits, out int lane, out int used) && used == digits.Length ? lane : null;
    }

    /// <summary>Answers one lane request on its lane's thread ("ns" around the call), then marks it answered.</summary>
    private void AnswerOnLane(int lane, JsonDocument request)
    {
        var lanes = _lanes!;
        // --fault lane-order: with a second request of the lane already waiting, it is answered first.
        if (fault == Faults.LaneOrder && lanes.TakeWaiting(lane) is { } second)
        {
            AnswerOne(lane, second);
            AnswerOne(lane, request);
            lanes.Answered(2);
            return;
        }
        AnswerOne(lane, request);
        lanes.Answered();
    }

    private void AnswerOne(int lane, JsonDocument request)
    {
        using (request)
        {
            var r = request.RootElement;
            long id = r.GetProperty("id").GetInt64();
            string op = r.GetProperty("op").GetString() ?? "";
            var buffer = new ArrayBufferWriter<byte>(256);
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteNumber("id", id);
                Call(w, id, op, r, out long t0, out long t1);
                if (fault != Faults.NoNs)
                {
                    w.WriteStartArray("ns");
                    w.WriteNumberValue(t0);
                    w.WriteNumberValue(t1);
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            channel.WriteLine(buffer.WrittenSpan, flush: _lanes!.Idle(lane));
        }
    }

    private void End(Utf8JsonWriter w)
    {
        w.WriteEndObject();
        w.Flush();
        channel.Output.Write("\n"u8);
    }

    private static void Ok(Utf8JsonWriter w)
    {
        w.WriteBoolean("ok", true);
        w.WritePropertyName("value");
    }

    private static void Error(Utf8JsonWriter w, string kind, string message, string? rule = null, string? parameter = null, ulong? address = null)
    {
        w.WriteBoolean("ok", false);
        w.WriteStartObject("error");
        w.WriteString("kind", kind);
        if (rule is not null) w.WriteString("rule", rule);
        if (parameter is not null) w.WriteString("parameter", parameter);
        if (address is { } a) w.WriteString("address", $"0x{a:x}");
        w.WriteString("message", message);
        w.WriteEndObject();
    }

    // ---- hello -----------------------------------------------------------------------------------

    private void Hello(Utf8JsonWriter w, JsonElement r)
    {
        int newest = Math.Min(maxVersion ?? Operations.LatestVersion, Operations.LatestVersion);
        var offered = r.TryGetProperty("versions", out var vs) && vs.ValueKind == JsonValueKind.Array
            ? vs.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.Number).Select(v => v.GetInt32()).ToList()
            : r.TryGetProperty("protocol", out var pv) && pv.ValueKind == JsonValueKind.Number ? [pv.GetInt32()] : [];
        int version = offered.Where(v => v >= 1 && v <= newest).DefaultIfEmpty(0).Max();
        if (version == 0) { Error(w, "unsupported", $"this program speaks protocol {newest} and older"); return; }

        var received = r.GetProperty("profile");
        var profile = Rebuild(received, out string? why);
        if (profile is null) { Error(w, "unsupported", why!); return; }
        _mm?.Dispose();
        _mm = new ReferenceFactory().Create(profile);
        if (_mm is null) { Error(w, "unsupported", $"the reference does not boot {profile.Label}"); return; }
        _profile = profile;
        _accepted.Add(profile.Label);
        _answers.Clear();
        _answerOrder.Clear();
        _vfreed.Clear();
        var carried = Operations.Carried(version);
        _declared = _mm.Capabilities.Where(carried.Contains).ToHashSet();

        w.WriteBoolean("ok", true);
        w.WriteNumber("protocol", version);
        w.WriteString("name", fault is null ? "reference-server" : $"reference-server --fault {fault}");
        w.WriteStartArray("capabilities");
        foreach (var c in _declared.Order()) w.WriteStringValue(c.ToString());
        w.WriteEndArray();
        if (version >= Operations.LanesSince && _declared.Overlaps(Operations.OnLanes))
        {
            // cpus 0 (--cpus 0): the field is left out, a protocol violation the runner reports.
            if (cpus != 0) w.WriteNumber("cpus", cpus);
            if (_lanes is null || _lanes.Count != Math.Clamp(cpus, 1, 64))
            {
                _lanes?.Stop();
                _lanes = new Lanes(Math.Clamp(cpus, 1, 64), AnswerOnLane);
            }
        }
        w.WriteStartArray("features");
        w.WriteStringValue("snapshot");
        if (version >= 2) { w.WriteStringValue("references"); w.WriteStringValue("offsets"); }
        w.WriteEndArray();
    }

    /// <summary>
    /// The built-in profile the hello profile names, at its RAM size, provided every field the runner sent
    /// agrees with it (a runner with a changed profile is refused rather than judged on another machine).
    /// </summary>
    private static Profile? Rebuild(JsonElement received, out string? why)
    {
        why = null;
        string name = received.TryGetProperty("name", out var n) ? n.GetString() ?? "" : "";
        var known = Profiles.Named.FirstOrDefault(p => p.Name == name);
        if (known is null) { why = $"unknown profile \"{name}\" (known: {string.Join(", ", Profiles.Named.Select(p => p.Name))})"; return null; }
        if (!received.TryGetProperty("physicalMemory", out var m) || m.GetString() is not { } text
            || !ulong.TryParse(text.StartsWith("0x") ? text[2..] : text, text.StartsWith("0x") ? System.Globalization.NumberStyles.HexNumber : default, null, out ulong bytes))
        { why = "no physicalMemory"; return null; }
        Profile profile;
        try { profile = known.WithMemory(bytes); }
        catch (ArgumentException e) { why = e.Message; return null; }
        using var mine = JsonDocument.Parse(HelloProfile.Json(profile));
        foreach (var field in received.EnumerateObject())
        {
            if (!mine.RootElement.TryGetProperty(field.Name, out var expected) || !JsonElement.DeepEquals(expected, field.Value))
            {
                why = $"profile field {field.Name} differs from the reference's {profile.Label}";
                return null;
            }
        }
        return profile;
    }

    // ---- snapshot ----------------------------------------------------------------------------------

    private void Snapshot(Utf8JsonWriter w)
    {
        var mm = _mm ?? throw new InvalidOperationException("snapshot before hello");
        var pages = (IPageAllocator)mm;
        w.WriteStartObject();
        w.WriteStartArray("free");
        foreach (var z in Zones.All)
        {
            w.WriteStartArray();
            for (int o = 0; o <= _profile!.MaxOrder; o++) w.WriteNumberValue(pages.FreeBlocks(z, o));
            w.WriteEndArray();
        }
        w.WriteEndArray();
        if (_declared.Contains(Capability.Reclaim))
        {
            w.WriteStartArray("reclaimable");
            foreach (var z in Zones.All) w.WriteNumberValue(((IReclaim)mm).ReclaimablePages(z));
            w.WriteEndArray();
        }
        if (_declared.Contains(Capability.ExecutionContext))
        {
            var ctx = (IExecutionContext)mm;
            w.WriteNumber("sleeps", ctx.Sleeps);
            w.WriteBoolean("inInterrupt", ctx.InInterrupt);
            w.WriteBoolean("inAtomic", ctx.InAtomic);
        }
        w.WriteEndObject();
    }

    // ---- operations ----------------------------------------------------------------------------------

    private void Call(Utf8JsonWriter w, long id, string name, JsonElement r, out long t0, out long t1)
    {
        t0 = t1 = Lanes.Nanoseconds();
        if (_mm is null) { Error(w, "invalid", "no hello yet", parameter: "op"); return; }
        if (Operations.Find(name) is not { } op || op.Capability is not { } cap || !_declared.Contains(cap))
        {
            Error(w, "unsupported", $"{name} is not an operation of the capabilities declared");
            return;
        }
        Invocation result;
        var args = new object?[op.Fields.Count];
        try
        {
            for (int i = 0; i < args.Length; i++) args[i] = Field(r, op.Fields[i]);
            t0 = Lanes.Nanoseconds();
            try { result = Faulty(op, args) ?? Invokers[op].Invoke(_mm, args); }
            finally { t1 = Lanes.Nanoseconds(); }
        }
        catch (KernelBugException e) { Error(w, "bug", e.Message, rule: e.RuleId); return; }
        catch (InvalidArgumentException e) { Error(w, "invalid", e.Message, parameter: e.Parameter); return; }
        catch (KernelPageFaultException e) { Error(w, "fault", e.Message, address: e.Address); return; }
        catch (KernelPanicException e) { Error(w, "panic", e.Message); return; }
        if (op == Operations.Vmalloc || op == Operations.Vzalloc) _vfreed.Remove((ulong)result.Value!);
        if (op == Operations.Vfree) _vfreed.Add((ulong)args[0]!);
        Ok(w);
        Answer(w, id, op, result);
    }

    /// <summary>A request field as the contract parameter's value (its wire type says how it travels).</summary>
    private object? Field(JsonElement r, WireField f)
    {
        if (!r.TryGetProperty(f.Name, out var v)) throw new InvalidArgumentException(f.Name, $"missing \"{f.Name}\"");
        if (v.ValueKind == JsonValueKind.Object && v.TryGetProperty("answer", out var a))
        {
            // {"answer":N} or {"answer":N,"add":k} (features "references" and "offsets").
            long add = v.TryGetProperty("add", out var k) && k.TryGetInt64(out long plus) ? plus : 0;
            ulong value = 0;
            bool known;
            lock (_answers) known = a.TryGetInt64(out long earlier) && _answers.TryGetValue(earlier, out value);
            if (known) return value + (ulong)add;
            throw new InvalidArgumentException(f.Name, $"\"{f.Name}\" refers to an answer that has no value");
        }
        try
        {
            switch (f.Type)
            {
                case WireType.Integer or WireType.Gfp or WireType.SlabFlags or WireType.Prot or WireType.MapFlags or WireType.OpenMode:
                    return v.ValueKind == JsonValueKind.Number ? v.GetInt64() : (long)Address(v);
                case WireType.Addresses:
                    if (v.ValueKind == JsonValueKind.Array) return v.EnumerateArray().Select(Address).ToArray();
                    break;
                case WireType.Address: return Address(v);
                case WireType.Zone:
                    foreach (var z in Zones.All) if (v.ValueKind == JsonValueKind.String && v.GetString() == z.KernelName()) return z;
                    break;
                case WireType.Access:
                    if (v.ValueKind == JsonValueKind.String && Enum.TryParse<Access>(v.GetString(), out var access) && Enum.IsDefined(access)
                        && !char.IsDigit(v.GetString()![0])) return access;
                    break;
                case WireType.Boolean: return v.GetBoolean();
                case WireType.Text: return v.ValueKind == JsonValueKind.Null ? null : v.GetString();
                case WireType.Bytes: return Convert.FromHexString(v.GetString()!);
                case WireType.OptionalByte: return v.ValueKind == JsonValueKind.Null ? null : checked((byte)v.GetInt32());
            }
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or OverflowException) { }
        throw new InvalidArgumentException(f.Name, $"malformed \"{f.Name}\": {v.GetRawText()}");
    }

    private static ulong Address(JsonElement v)
    {
        if (v.ValueKind == JsonValueKind.Number) return v.GetUInt64();
        string s = v.GetString() ?? throw new FormatException();
        return s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? ulong.Parse(s.AsSpan(2), System.Globalization.NumberStyles.HexNumber) : ulong.Parse(s);
    }

    /// <summary>Writes the result as the operation's answer type.</summary>
    private void Answer(Utf8JsonWriter w, long id, WireOperation op, Invocation invocation)
    {
        object? result = invocation.Value;
        switch (op.Value)
        {
            case WireType.None: w.WriteNullValue(); break;
            case WireType.Address:
                ulong a = result switch { PageHandle p => p.Value, SlabCacheHandle c => c.Value, _ => (ulong)result! };
                Keep(id, a);
                w.WriteStringValue($"0x{a:x}");
                break;
            case WireType.Integer:
                long n = Convert.ToInt64(result);
                Keep(id, (ulong)n);
                w.WriteNumberValue(n);
                break;
            case WireType.Boolean: w.WriteBooleanValue((bool)result!); break;
            case WireType.Zone: w.WriteStringValue(((Zone)result!).KernelName()); break;
            case WireType.Bytes: w.WriteStringValue(Convert.ToHexStringLower(invocation.Buffer!)); break;
            case WireType.CopiedBytes: w.WriteStringValue(Convert.ToHexStringLower(invocation.Buffer!.AsSpan(0, (int)result!))); break;
            case WireType.UserFault: w.WriteStringValue(((UserFault)result!).ToString()); break;
            case WireType.UserLoad:
                w.WriteStartObject();
                w.WriteString("fault", ((UserFault)result!).ToString());
                if ((UserFault)result! == UserFault.None) w.WriteString("data", Convert.ToHexStringLower(invocation.Buffer!));
                w.WriteEndObject();
                break;
            case WireType.ResultWithValue:
                w.WriteStartObject();
                w.WriteNumber("result", (int)result!);
                w.WriteString("value", $"0x{invocation.Out:x}");
                w.WriteEndObject();
                break;
            case WireType.Vma:
                if (result is not DriverVma vma) { w.WriteNullValue(); break; }
                w.WriteStartObject();
                w.WriteString("vmStart", $"0x{vma.VmStart:x}");
                w.WriteString("vmEnd", $"0x{vma.VmEnd:x}");
                w.WriteString("vmPgoff", $"0x{vma.VmPgoff:x}");
                w.WriteNumber("vmPageProt", (int)vma.VmPageProt);
                w.WriteBoolean("shared", vma.Shared);
                w.WriteEndObject();
                break;
            case WireType.Translation:
                var t = (Translation)result!;
                w.WriteStringValue(t.Fault == TranslationFault.None ? $"0x{t.PhysicalAddress:x}" : t.Fault.ToString());
                break;
            case WireType.SlabInfo:
                w.WriteStartArray();
                foreach (var line in (IReadOnlyList<SlabInfo>)result!)
                {
                    w.WriteStartObject();
                    foreach (var p in typeof(SlabInfo).GetProperties(BindingFlags.Public | BindingFlags.Instance))
                    {
                        w.WritePropertyName(HelloProfile.JsonName(p.Name));
                        JsonSerializer.Serialize(w, p.GetValue(line), p.PropertyType);
                    }
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                break;
            default: throw new InvalidOperationException($"{op.Name}: no writer for {op.Value}");
        }
    }

    private void Keep(long id, ulong value)
    {
        lock (_answers)
        {
            if (_answers.TryAdd(id, value)) _answerOrder.Enqueue(id);
            else _answers[id] = value;
        }
    }

    // ---- the broken variants ----------------------------------------------------------------------------

    /// <summary>What an atomic_t update adds to its counter (null for atomicRead, atomicSet, atomicCounters and every other operation).</summary>
    private static int? RacyDelta(WireOperation op, object?[] args)
    {
        int I() => (int)(long)args[0]!;
        if (op == Operations.AtomicAdd || op == Operations.AtomicAddReturn || op == Operations.AtomicAddNegative) return I();
        if (op == Operations.AtomicSub || op == Operations.AtomicSubReturn || op == Operations.AtomicSubAndTest) return unchecked(-I());
        if (op == Operations.AtomicInc || op == Operations.AtomicIncReturn || op == Operations.AtomicIncAndTest) return 1;
        if (op == Operations.AtomicDec || op == Operations.AtomicDecReturn || op == Operations.AtomicDecAndTest) return -1;
        return null;
    }

    /// <summary>What a --fault variant answers instead of the reference, or null (the reference answers).</summary>
    private Invocation? Faulty(WireOperation op, object?[] args)
    {
        var mm = _mm!;
        switch (fault)
        {
            case Faults.DoubleVfree when op == Operations.Vfree && _vfreed.Contains((ulong)args[0]!):
                // VMAL-6: the second vfree of an area "succeeds" and changes nothing.
                return new Invocation(null);
            case Faults.UnmappedReadsZero when op == Operations.Read:
            {
                ulong addr = (ulong)args[0]!;
                var bytes = new byte[(long)args[1]!];
                try { ((IKernelMemory)mm).Read(addr, bytes); }
                catch (KernelPageFaultException)
                {
                    // ADDR-6: byte by byte, the unmapped ones read as zero.
                    for (int i = 0; i < bytes.Length; i++)
                        try { ((IKernelMemory)mm).Read(addr + (ulong)i, bytes.AsSpan(i, 1)); } catch (KernelPageFaultException) { bytes[i] = 0; }
                }
                return new Invocation(null, bytes);
            }
            case Faults.UnmappedReadsZero when op == Operations.Write:
            {
                ulong addr = (ulong)args[0]!;
                var data = (byte[])args[1]!;
                try { ((IKernelMemory)mm).Write(addr, data); }
                catch (KernelPageFaultException)
                {
                    // ADDR-6: the bytes that land on unmapped addresses are dropped.
                    for (int i = 0; i < data.Length; i++)
                        try { ((IKernelMemory)mm).Write(addr + (ulong)i, data.AsSpan(i, 1)); } catch (KernelPageFaultException) { }
                }
                return new Invocation(null);
            }
            case Faults.CopyReturnsCopied when op == Operations.CopyFromUser || op == Operations.CopyToUser:
            {
                // UACC-1: the bytes copied instead of the bytes not copied.
                long n = (long)args[3]!;
                long notCopied = (long)Invokers[op].Invoke(mm, args).Value!;
                return new Invocation(notCopied < n ? n - notCopied : notCopied);
            }
            case Faults.RacyAtomic when RacyDelta(op, args) is { } delta:
            {
                // ATOM-1: read, spin a little, write: an update made by another lane meanwhile is lost.
                var atomic = (IAtomicT)mm;
                int v = (int)(long)args[op.Fields.ToList().FindIndex(f => f.Name == "v")]!;
                int seen = atomic.AtomicRead(v);
                Thread.SpinWait(64);
                int now = unchecked(seen + delta);
                atomic.AtomicSet(v, now);
                if (op.Value == WireType.None) return new Invocation(null);
                if (op.Value == WireType.Integer) return new Invocation(now);
                return new Invocation(op == Operations.AtomicAddNegative ? now < 0 : now == 0);
            }
            case Faults.MprotectIgnored when op == Operations.Mprotect:
            {
                // MMAP-6: a well-formed mprotect of user space answers 0 and changes nothing.
                ulong addr = (ulong)args[1]!;
                long prot = (long)args[3]!;
                if (addr < _profile!.TaskSize && addr % (ulong)_profile.PageSize == 0 && (prot & ~7L) == 0) return new Invocation(0);
                return null;
            }
            case Faults.NeitherFlagAccepted when op == Operations.Mmap && ((long)args[4]! & 3) == 0:
            {
                // MMAP-3: a mapping with neither MAP_SHARED nor MAP_PRIVATE is made private.
                var fixedArgs = (object?[])args.Clone();
                fixedArgs[4] = (long)args[4]! | 2;
                return Invokers[op].Invoke(mm, fixedArgs);
            }
        }
        return null;
    }
}
