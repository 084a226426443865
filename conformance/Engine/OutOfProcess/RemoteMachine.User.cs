using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>
/// The typed calls of the answer types protocol 4 adds (the user family): each sends the request, decodes
/// the value with <see cref="UserAnswerParser"/>, and reports a malformed one as a protocol violation
/// naming what is wrong.
/// </summary>
internal sealed partial class RemoteMachine
{
    private ProtocolViolationException Malformed(ImplementationProcess p, WireOperation op, Response r, string expected, string problem) =>
        p.Violation($"the answer to {op.Name} must be {expected}, got {Value(r)}: {problem}");

    private UserFault CallUserFault(WireOperation op, ReadOnlySpan<WireArg> args)
    {
        Check(op, WireType.UserFault);
        var p = Proc;
        var r = Exchange(p, op, args);
        var fault = UserFault.None;
        if (r.Ok && UserAnswerParser.Fault(r.Value, out fault) is { } problem)
            throw Malformed(p, op, r, "a user fault's name (\"None\", \"MapError\", \"AccessError\", \"Bus\" or \"OutOfMemory\")", problem);
        Finish(p, r, op);
        return fault;
    }

    private UserFault CallUserLoad(WireOperation op, ReadOnlySpan<WireArg> args, Span<byte> destination)
    {
        Check(op, WireType.UserLoad);
        var p = Proc;
        var r = Exchange(p, op, args);
        var fault = UserFault.None;
        if (r.Ok && UserAnswerParser.UserLoad(r.Value, destination, out fault) is { } problem)
            throw Malformed(p, op, r, $"{{\"fault\":\"None\",\"data\":<{destination.Length} bytes in hex>}} or {{\"fault\":<name>}}", problem);
        Finish(p, r, op);
        return fault;
    }

    private int CallCopiedBytes(WireOperation op, ReadOnlySpan<WireArg> args, Span<byte> destination)
    {
        Check(op, WireType.CopiedBytes);
        var p = Proc;
        var r = Exchange(p, op, args);
        int count = 0;
        if (r.Ok && UserAnswerParser.CopiedBytes(r.Value, destination, out count) is { } problem)
            throw Malformed(p, op, r, $"a hex string of at most {destination.Length} bytes", problem);
        Finish(p, r, op);
        return count;
    }

    private int CallResultWithValue(WireOperation op, ReadOnlySpan<WireArg> args, out ulong value)
    {
        Check(op, WireType.ResultWithValue);
        var p = Proc;
        var r = Exchange(p, op, args);
        long result = 0;
        value = 0;
        if (r.Ok && UserAnswerParser.ResultWithValue(r.Value, out result, out value) is { } problem)
            throw Malformed(p, op, r, "{\"result\":<integer>,\"value\":\"0x…\"}", problem);
        if (result is < int.MinValue or > int.MaxValue) throw p.Violation($"the answer to {op.Name} is out of range: result {result}");
        Finish(p, r, op);
        return (int)result;
    }

    private DriverVma? CallVma(WireOperation op, ReadOnlySpan<WireArg> args)
    {
        Check(op, WireType.Vma);
        if (!op.ChangesState && Remembered(op, args) is { } known) return known.Vma;
        var p = Proc;
        var r = Exchange(p, op, args);
        DriverVma? vma = null;
        if (r.Ok && UserAnswerParser.Vma(r.Value, out vma) is { } problem)
            throw Malformed(p, op, r, "null or {\"vmStart\":\"0x…\",\"vmEnd\":\"0x…\",\"vmPgoff\":\"0x…\",\"vmPageProt\":<PROT_ mask>,\"shared\":<boolean>}", problem);
        Remember(p, op, args, r, new Answer { Vma = vma });
        Finish(p, r, op);
        return vma;
    }
}
