using System.Reflection;
using System.Text.Json;
using KernelMm.Conformance.OutOfProcess;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>
/// The operation table (Operations.cs) is the one description of every operation: it covers every
/// member of every contract interface a protocol version carries, agrees with the members'
/// parameters and results, every adapter line sends what its entry says, and docs/protocol.md
/// documents every operation and every hello profile field.
/// </summary>
public class OperationTableTests
{
    /// <summary>The interfaces a capability's operations come from (PageAllocator brings IKernelMemory too).</summary>
    private static IEnumerable<Type> InterfacesOf(Capability c) =>
        c == Capability.PageAllocator ? [typeof(IPageAllocator), typeof(IKernelMemory)] : Capabilities.InterfaceFor(c) is { } t ? [t] : [];

    /// <summary>
    /// The members a program must carry: the abstract ones. A member with a default body (an optional
    /// declaration whose default the suite falls back to) may have an operation too, and then must have one only.
    /// </summary>
    private static IEnumerable<(Type Interface, string Member)> Members(Type iface) =>
        iface.GetMethods().Where(m => !m.IsSpecialName && m.IsAbstract).Select(m => (iface, m.Name))
            .Concat(iface.GetProperties().Where(p => p.GetMethod!.IsAbstract).Select(p => (iface, p.Name)));

    [Fact]
    public void EveryMemberOfEveryCarriedInterface_HasExactlyOneOperation()
    {
        var carried = Operations.Carried(Protocol.Latest);
        Assert.Contains(Capability.Kmalloc, carried);
        Assert.Contains(Capability.SlabCache, carried);
        Assert.Contains(Capability.Vmalloc, carried);
        Assert.Contains(Capability.KernelPageTables, carried);
        Assert.Contains(Capability.Tlb, carried);
        Assert.DoesNotContain(Capability.Vmalloc, Operations.Carried(2));
        foreach (var user in new[] { Capability.UserMemory, Capability.Swap, Capability.UserCopy, Capability.DriverMmap })
        {
            Assert.Contains(user, carried);
            Assert.DoesNotContain(user, Operations.Carried(3));
        }
        foreach (var lanes in new[] { Capability.AtomicT, Capability.Smp })
        {
            Assert.Contains(lanes, carried);
            Assert.DoesNotContain(lanes, Operations.Carried(4));
        }
        var members = carried.SelectMany(InterfacesOf).SelectMany(Members).ToList();
        foreach (var (iface, member) in members)
            Assert.True(Operations.All.Count(o => o.Interface == iface && o.Member == member) == 1, $"{iface.Name}.{member} needs exactly one operation in Operations.cs");
        Assert.All(Operations.All, o => Assert.True(carried.SelectMany(InterfacesOf).Contains(o.Interface), $"{o.Name}: {o.Interface.Name} is not a carried interface"));
        Assert.Equal(Operations.All.Count, Operations.All.Select(o => o.Name).Distinct().Count());
        Assert.All(Operations.All, o => Assert.Equal(char.ToLowerInvariant(o.Member[0]) + o.Member[1..], o.Name));
    }

    [Fact]
    public void OperationsAgreeWithTheContractMembers()
    {
        foreach (var op in Operations.All)
        {
            var method = op.Interface.GetMethod(op.Member);
            var property = op.Interface.GetProperty(op.Member);
            // An out parameter is part of the answer (getUser's value), not a field.
            var parameters = method?.GetParameters().Where(p => !p.IsOut).Select(p => p.Name!).ToArray() ?? [];
            Assert.Equal(parameters, op.Fields.Select(f => f.ContractParameter!).ToArray());
            Type result = method?.ReturnType ?? property!.PropertyType;
            bool spanOut = method?.GetParameters().Any(p => p.ParameterType == typeof(Span<byte>)) ?? false;
            bool outValue = method?.GetParameters().Any(p => p.IsOut) ?? false;
            var expected = spanOut ? result == typeof(void) ? [WireType.Bytes] : result == typeof(UserFault) ? [WireType.UserLoad] : [WireType.CopiedBytes]
                : outValue ? [WireType.ResultWithValue]
                : result == typeof(void) ? [WireType.None]
                : result == typeof(UserFault) ? [WireType.UserFault]
                : result == typeof(DriverVma) ? [WireType.Vma]
                : result == typeof(ulong) || result == typeof(PageHandle) || result == typeof(SlabCacheHandle) ? [WireType.Address]
                : result == typeof(long) || result == typeof(int) ? [WireType.Integer]
                : result == typeof(bool) ? [WireType.Boolean]
                : result == typeof(Zone) ? [WireType.Zone]
                : result == typeof(Translation) ? [WireType.Translation]
                : result == typeof(IReadOnlyList<SlabInfo>) ? new[] { WireType.SlabInfo } : [];
            Assert.True(expected.Contains(op.Value), $"{op.ContractName} returns {result.Name}, the table says {op.Value}");
            Assert.All(op.Then, f => Assert.False(f.Operation.ChangesState));
            Assert.True(op.Then.Count == 0 || op.Value == WireType.Address, $"{op.Name}: follow-ups refer to an address answer");
        }
        Assert.Equal(5, Protocol.Latest);
        Assert.Equal([1, 2, 3, 4, 5], Protocol.Versions);
    }

    /// <summary>
    /// Every contract member of the adapter, called once against a recording program (python3): the
    /// request it sends carries the table's op name and exactly the table's fields, with the types the table says.
    /// </summary>
    [Fact]
    public void EveryAdapterLine_SendsItsOperation()
    {
        string log = Path.Combine(Path.GetTempPath(), $"kmm-requests-{Guid.NewGuid():N}");
        string recorder = $$"""
            import json, sys
            values = {"Address": '"0x1000"', "Integer": "1", "Boolean": "false", "Zone": '"DMA"', "SlabInfo": "[]", "Translation": '"0x1000"', "None": "null",
                      "UserFault": '"None"', "ResultWithValue": '{"result":0,"value":"0x2a"}', "Vma": "null"}
            kinds = {{JsonSerializer.Serialize(Operations.All.ToDictionary(o => o.Name, o => o.Value.ToString()))}}
            log = open(sys.argv[1], "a")
            for line in sys.stdin:
                r = json.loads(line)
                log.write(line); log.flush()
                if r["op"] == "hello":
                    print(json.dumps({"id": r["id"], "ok": True, "protocol": {{Protocol.Latest}}, "cpus": 2, "capabilities": {{JsonSerializer.Serialize(Operations.Carried(Protocol.Latest).Select(c => c.ToString()))}}}))
                elif r["op"] == "read" or r["op"] == "readFile":
                    print('{"id":%d,"ok":true,"value":"%s"}' % (r["id"], "00" * r["len"]))
                elif r["op"] == "userRead":
                    print('{"id":%d,"ok":true,"value":{"fault":"None","data":"%s"} }' % (r["id"], "00" * r["len"]))
                else:
                    print('{"id":%d,"ok":true,"value":%s}' % (r["id"], values.get(kinds.get(r["op"]), "null")))
                sys.stdout.flush()
            """;
        try
        {
            using var factory = new ProcessFactory(["python3", "-c", recorder, log],
                new ProcessFactoryOptions { UseBulkQueries = false, UseReferences = false, CrossCheckSnapshot = false });
            using var mm = factory.Create(Profiles.X86_32.WithMemory(64UL << 20))!;
            var called = new List<WireOperation>();
            foreach (var op in Operations.All)
            {
                if (op == Operations.Read) ((IKernelMemory)mm).Read(0x1000, new byte[3]);
                else if (op == Operations.Write) ((IKernelMemory)mm).Write(0x1000, [1, 2]);
                else if (op == Operations.ReadFile) Assert.Equal(2, ((IUserMemory)mm).ReadFile(1, 0, new byte[2]));
                else if (op == Operations.WriteFile) ((IUserMemory)mm).WriteFile(1, 0, [1, 2]);
                else if (op == Operations.UserRead) Assert.Equal(UserFault.None, ((IUserMemory)mm).UserRead(1, 0x1000, new byte[4]));
                else if (op == Operations.UserWrite) Assert.Equal(UserFault.None, ((IUserMemory)mm).UserWrite(1, 0x1000, [1]));
                else if (op == Operations.GetUser)
                {
                    Assert.Equal(0, ((IUserCopy)mm).GetUser(1, 0x1000, 4, out ulong got));
                    Assert.Equal(0x2aUL, got);
                }
                else if (op.Interface.GetProperty(op.Member) is { } property) property.GetValue(mm);
                else
                {
                    var method = op.Interface.GetMethod(op.Member)!;
                    method.Invoke(mm, method.GetParameters().Select(p => Sample(p.ParameterType)).ToArray());
                }
                called.Add(op);
            }
            var requests = File.ReadAllLines(log).Select(l => JsonDocument.Parse(l).RootElement).Where(r => r.GetProperty("op").GetString() != "hello").ToList();
            Assert.Equal(called.Count, requests.Count);
            for (int i = 0; i < called.Count; i++)
            {
                var op = called[i];
                var r = requests[i];
                Assert.Equal(op.Name, r.GetProperty("op").GetString());
                var keys = r.EnumerateObject().Select(p => p.Name).Where(n => n is not ("id" or "op")).ToArray();
                Assert.Equal(op.Fields.Select(f => f.Name).ToArray(), keys);
                foreach (var f in op.Fields)
                {
                    var v = r.GetProperty(f.Name);
                    var kind = f.Type switch
                    {
                        WireType.Address or WireType.Zone or WireType.Text or WireType.Bytes or WireType.Access => JsonValueKind.String,
                        WireType.OptionalByte => JsonValueKind.Null,
                        WireType.Addresses => JsonValueKind.Array,
                        _ => JsonValueKind.Number,
                    };
                    Assert.True(v.ValueKind == kind, $"{op.Name}.{f.Name}: {v.ValueKind}, the table says {f.Type}");
                }
            }
        }
        finally { File.Delete(log); }
    }

    private static object? Sample(Type t) =>
        t == typeof(ulong) ? 0x2000UL : t == typeof(long) ? 8L : t == typeof(int) ? 1 : t == typeof(GfpFlags) ? Gfp.Kernel
        : t == typeof(Zone) ? Zone.Normal : t == typeof(PageHandle) ? new PageHandle(5) : t == typeof(SlabCacheHandle) ? new SlabCacheHandle(3)
        : t == typeof(SlabFlags) ? SlabFlags.Poison : t == typeof(Access) ? Access.UserWrite : t == typeof(string) ? "name" : t == typeof(byte?) ? null
        : t == typeof(Prot) ? Prot.Read | Prot.Write : t == typeof(MapFlags) ? MapFlags.Private | MapFlags.Anonymous : t == typeof(OpenMode) ? OpenMode.ReadWrite
        : t == typeof(IReadOnlyList<PageHandle>) ? new List<PageHandle> { new(5), new(6) }
        : throw new InvalidOperationException($"no sample for {t}");

    [Fact]
    public void TheProtocolDocument_DocumentsEveryOperationAndEveryProfileField()
    {
        string doc = File.ReadAllText(Path.Combine(NativePrograms.FindRoot(), "docs", "protocol.md"));
        foreach (var op in Operations.All)
            Assert.True(doc.Contains($"<a id=\"{op.Name.ToLowerInvariant()}\"></a>"), $"docs/protocol.md has no section anchor for {op.Name}");
        foreach (var field in HelloProfile.Fields())
            Assert.True(doc.Contains($"`{field.Name}`"), $"docs/protocol.md does not list the hello profile field {field.Name}");
    }
}
