using System.Text;
using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>
/// Everything generated from <see cref="Operations"/> and <see cref="HelloProfile"/>: the operation
/// table of docs/protocol.md, the C kit's generated header (kits/c/kmm_generated.h) and the Python
/// kit's operation table (kits/python/kmm.py, between its markers). tests/OutOfProcess/GeneratedFilesTests
/// fails when a committed file differs, and rewrites them all with KMM_REGENERATE=1.
/// </summary>
public static class WireCodegen
{
    public const string BeginMarker = "<!-- BEGIN GENERATED: operation table (WireCodegen.MarkdownTable) -->";
    public const string EndMarker = "<!-- END GENERATED -->";
    public const string PythonBegin = "# ---- BEGIN GENERATED from conformance/Engine/OutOfProcess/Operations.cs (WireCodegen.PythonTable): do not edit ----";
    public const string PythonEnd = "# ---- END GENERATED ----";

    private static string Describe(WireType t) => t switch
    {
        WireType.None => "null",
        WireType.Integer => "integer",
        WireType.Gfp => "GFP mask",
        WireType.SlabFlags => "slab flags",
        WireType.Address => "\"0x…\"",
        WireType.Zone => "zone",
        WireType.Boolean => "boolean",
        WireType.Text => "string",
        WireType.Bytes => "hex bytes",
        WireType.OptionalByte => "integer 0..255 or null",
        WireType.SlabInfo => "slabinfo array",
        WireType.Access => "access",
        WireType.Translation => "translation",
        WireType.Prot => "PROT_ mask",
        WireType.MapFlags => "MAP_ flags",
        WireType.OpenMode => "O_ mode",
        WireType.Addresses => "array of \"0x…\"",
        WireType.UserFault => "user fault",
        WireType.UserLoad => "user load",
        WireType.CopiedBytes => "hex bytes (≤ len)",
        WireType.ResultWithValue => "result and value",
        WireType.Vma => "vma or null",
        _ => t.ToString(),
    };

    // ---- docs/protocol.md -------------------------------------------------------------------------

    /// <summary>The operation table of docs/protocol.md, one row per operation, grouped by capability.</summary>
    public static string MarkdownTable()
    {
        var sb = new StringBuilder();
        sb.AppendLine(BeginMarker);
        sb.AppendLine("| op | fields | value | state | since | contract (`spec/Contract/`) | what the program answers | follow-ups |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|");
        static string FollowUps(IEnumerable<FollowUp> then) =>
            string.Join(", ", then.Select(f => $"`{f.Operation.Name}`" + (f.LastPageOfOrder is not null ? " of the last page" : "") + (f.Then.Length > 0 ? $" ({FollowUps(f.Then)})" : "")));
        foreach (var group in Operations.All.GroupBy(o => o.Capability))
        {
            sb.AppendLine($"| **{group.Key}** | | | | | | | |");
            foreach (var op in group)
            {
                string fields = op.Fields.Count == 0 ? "" : string.Join(", ", op.Fields.Select(f => $"`{f.Name}` ({Describe(f.Type)})"));
                sb.AppendLine($"| [`{op.Name}`](#{op.Name.ToLowerInvariant()}) | {fields} | {Describe(op.Value)} | {(op.ChangesState ? "yes" : "")} | {op.Since} | `{op.ContractName}` | {op.Summary} | {FollowUps(op.Then)} |");
            }
        }
        sb.Append(EndMarker);
        return sb.ToString();
    }

    // ---- C kit --------------------------------------------------------------------------------------

    private static string CType(WireType t) => t switch
    {
        WireType.Integer => "int64_t",
        WireType.Gfp or WireType.SlabFlags or WireType.Prot or WireType.MapFlags => "uint32_t",
        WireType.OpenMode => "int64_t",
        WireType.Address => "uint64_t",
        WireType.Zone => "int",
        WireType.Boolean => "bool",
        WireType.Text => "const char *",
        WireType.OptionalByte => "int",
        WireType.Access => "int",
        _ => throw new InvalidOperationException($"{t} has no scalar C type"),
    };

    private static string CReturn(WireType t) => t switch
    {
        WireType.None or WireType.Bytes or WireType.SlabInfo => "void",
        WireType.Integer => "int64_t",
        WireType.Address => "uint64_t",
        WireType.Boolean => "bool",
        WireType.Zone => "int",
        WireType.Translation => "struct kmm_translation",
        WireType.UserFault or WireType.UserLoad => "int",
        WireType.CopiedBytes or WireType.ResultWithValue => "int64_t",
        WireType.Vma => "bool",
        _ => throw new InvalidOperationException($"{t} is not an answer type"),
    };

    private static string CParameters(WireOperation op)
    {
        var ps = new List<string>();
        foreach (var f in op.Fields)
        {
            if (f.Type == WireType.Bytes) { ps.Add($"const uint8_t *{f.Name}"); ps.Add($"int64_t {f.Name}_len"); }
            else if (f.Type == WireType.Addresses) { ps.Add($"const uint64_t *{f.Name}"); ps.Add($"int64_t {f.Name}_count"); }
            else ps.Add($"{CType(f.Type)}{(f.Type == WireType.Text ? "" : " ")}{f.Name}");
        }
        if (op.Value is WireType.Bytes or WireType.UserLoad or WireType.CopiedBytes) ps.Add("uint8_t *out");
        if (op.Value == WireType.ResultWithValue) ps.Add("uint64_t *value");
        if (op.Value == WireType.Vma) ps.Add("struct kmm_vma *vma");
        return ps.Count == 0 ? "void" : string.Join(", ", ps);
    }

    private static string CCapability(Capability c) => "KMM_CAP_" + WireOperation.Snake(c.ToString()).ToUpperInvariant();

    private static string CGetter(WireType t) => t switch
    {
        WireType.Integer => "kmm_get_int",
        WireType.Gfp => "kmm_get_mask",
        WireType.SlabFlags or WireType.Prot or WireType.MapFlags => "kmm_get_mask",
        WireType.OpenMode => "kmm_get_int",
        WireType.Address => "kmm_get_address",
        WireType.Zone => "kmm_get_zone",
        WireType.Boolean => "kmm_get_bool",
        WireType.Text => "kmm_get_text",
        WireType.OptionalByte => "kmm_get_optional_byte",
        WireType.Access => "kmm_get_access",
        _ => throw new InvalidOperationException(t.ToString()),
    };

    private static string CAnswer(WireType t) => t switch
    {
        WireType.Integer => "kmm_answer_int",
        WireType.Address => "kmm_answer_address",
        WireType.Boolean => "kmm_answer_bool",
        WireType.Zone => "kmm_answer_zone",
        WireType.Translation => "kmm_answer_translation",
        WireType.UserFault => "kmm_answer_user_fault",
        _ => throw new InvalidOperationException(t.ToString()),
    };

    private static string CProfileType(HelloProfile.Field f) => f.Type switch
    {
        "address" => "uint64_t",
        "integer" => "int64_t",
        "boolean" => "bool",
        _ => "",
    };

    /// <summary>kits/c/kmm_generated.h: the profile struct, the callback table, and (under KMM_IMPLEMENTATION) the dispatch.</summary>
    public static string CHeader()
    {
        var caps = Operations.All.Where(o => o.Capability is not null).Select(o => o.Capability!.Value).Distinct().ToList();
        var sb = new StringBuilder();
        sb.Append("""
            /*
             * GENERATED from conformance/Engine/OutOfProcess/Operations.cs and HelloProfile.cs by WireCodegen.CHeader():
             * do not edit. Regenerate with: KMM_REGENERATE=1 dotnet test tests --filter GeneratedFiles
             * Included by kmm.h (declarations) and kmm.c (the dispatch, under KMM_IMPLEMENTATION).
             */
            #ifndef KMM_GENERATED_H
            #define KMM_GENERATED_H

            """);
        sb.AppendLine($"/* The newest protocol version this kit speaks. */");
        sb.AppendLine($"#define KMM_PROTOCOL {Operations.LatestVersion}");
        sb.AppendLine();
        sb.AppendLine("/* Capabilities (spec/Contract/Capability.cs): a program declares one when every callback of its operations is set. */");
        sb.AppendLine("enum kmm_capability {");
        for (int i = 0; i < caps.Count; i++) sb.AppendLine($"    {CCapability(caps[i])} = 1u << {i},");
        sb.AppendLine("};");
        sb.AppendLine($"#define KMM_NCAPS {caps.Count}");
        sb.AppendLine();

        sb.AppendLine("/* The hello request's \"profile\" object (docs/protocol.md, \"Handshake\"); X_given is false when field X was absent or null. */");
        sb.AppendLine("struct kmm_profile {");
        foreach (var f in HelloProfile.Fields())
        {
            string name = WireOperation.Snake(f.Name);
            switch (f.Type)
            {
                case "string": sb.AppendLine($"    char {name}[64];"); break;
                case "list of integers": sb.AppendLine($"    int64_t {name}[64];\n    int {name}_count;"); break;
                case "list of strings": sb.AppendLine($"    char {name}[64][48];\n    int {name}_count;"); break;
                case "object" when f.Name == "zones": sb.AppendLine("    uint64_t zone_start[3], zone_end[3]; /* zones: physical byte range [start, end) of DMA, Normal, HighMem */"); continue;
                case "json": continue;
                default: sb.AppendLine($"    {CProfileType(f)} {name};"); break;
            }
            sb.AppendLine($"    bool {name}_given;");
        }
        sb.AppendLine("};");
        sb.AppendLine();

        sb.AppendLine("/*");
        sb.AppendLine(" * The callbacks an implementation fills (leave NULL what it does not implement). A callback returns its");
        sb.AppendLine(" * value, or reports an error with kmm_bug/kmm_invalid/kmm_fault/kmm_panic (the value is then ignored).");
        sb.AppendLine(" * Addresses, pfns and handles are uint64_t; zones are enum kmm_zone; gfp and slab flags are bit masks.");
        sb.AppendLine(" */");
        sb.AppendLine("struct kmm_ops {");
        sb.AppendLine("    /* Shown in the runner's logs. */");
        sb.AppendLine("    const char *name;");
        sb.AppendLine("    /* hello: boot a fresh machine for this profile, forgetting everything; NULL to accept, else why it is refused. */");
        sb.AppendLine("    const char *(*boot)(const struct kmm_profile *profile);");
        sb.AppendLine("    /* Protocol 5: how many lanes (threads) run at once, 2..8; 0 = none (then AtomicT and Smp are not declared). */");
        sb.AppendLine("    int cpus;");
        sb.AppendLine("    /* Protocol 5: the page, kmalloc and slab callbacks are safe to call from several lanes at once (declares Smp). */");
        sb.AppendLine("    bool smp;");
        foreach (var group in Operations.All.GroupBy(o => o.Capability))
        {
            sb.AppendLine($"    /* ---- {group.Key} ---- */");
            foreach (var op in group)
            {
                sb.AppendLine($"    /* {op.Name} ({op.ContractName}, protocol {op.Since}): {Plain(op.Summary)} */");
                sb.AppendLine($"    {CReturn(op.Value)} (*{op.SnakeName})({CParameters(op)});");
            }
        }
        sb.AppendLine("};");
        sb.AppendLine();

        sb.AppendLine("#endif /* KMM_GENERATED_H */");
        sb.AppendLine();
        sb.AppendLine("#if defined(KMM_IMPLEMENTATION) && !defined(KMM_GENERATED_IMPLEMENTATION)");
        sb.AppendLine("#define KMM_GENERATED_IMPLEMENTATION");
        sb.AppendLine("/* The capabilities the callbacks cover, limited to those protocol `version` carries. */");
        sb.AppendLine("static unsigned kmm_capabilities(const struct kmm_ops *ops, int version)");
        sb.AppendLine("{");
        sb.AppendLine("    unsigned caps = 0;");
        foreach (var c in caps)
        {
            var ops = Operations.All.Where(o => o.Capability == c).ToList();
            sb.AppendLine($"    if (version >= {ops.Max(o => o.Since)} && {string.Join(" && ", ops.Select(o => $"ops->{o.SnakeName}"))}) caps |= {CCapability(c)};");
        }
        sb.AppendLine("    return caps;");
        sb.AppendLine("}");
        sb.AppendLine();
        sb.AppendLine("/* Callbacks set for part of a capability only (the kit warns on stderr and does not declare it). */");
        sb.AppendLine("static unsigned kmm_partial_capabilities(const struct kmm_ops *ops)");
        sb.AppendLine("{");
        sb.AppendLine("    unsigned caps = 0;");
        foreach (var c in caps)
        {
            var ops = Operations.All.Where(o => o.Capability == c).ToList();
            sb.AppendLine($"    if (({string.Join(" || ", ops.Select(o => $"ops->{o.SnakeName}"))}) && !({string.Join(" && ", ops.Select(o => $"ops->{o.SnakeName}"))})) caps |= {CCapability(c)};");
        }
        sb.AppendLine("    return caps;");
        sb.AppendLine("}");
        sb.AppendLine();
        sb.AppendLine("static const char *const kmm_capability_names[KMM_NCAPS] = {");
        foreach (var c in caps) sb.AppendLine($"    \"{c}\",");
        sb.AppendLine("};");
        sb.AppendLine();

        sb.AppendLine("/* One profile field (a scalar of the hello profile object). */");
        sb.AppendLine("static void kmm_profile_field(struct kmm_profile *p, const struct kmm_tok *k, const struct kmm_tok *v)");
        sb.AppendLine("{");
        foreach (var f in HelloProfile.Fields())
        {
            string name = WireOperation.Snake(f.Name);
            string call = f.Type switch
            {
                "address" => $"p->{name}_given = kmm_tok_address(v, &p->{name});",
                "integer" => $"p->{name}_given = kmm_tok_int(v, &p->{name});",
                "boolean" => $"p->{name}_given = kmm_tok_bool(v, &p->{name});",
                "string" => $"p->{name}_given = kmm_tok_text(v, p->{name}, sizeof p->{name});",
                "list of integers" => $"p->{name}_given = kmm_tok_int_list(v, p->{name}, 64, &p->{name}_count);",
                "list of strings" => $"p->{name}_given = kmm_tok_text_list(v, p->{name}, 64, &p->{name}_count);",
                _ => "",
            };
            if (call.Length == 0) continue;
            sb.AppendLine($"    if (kmm_tok_is(k, \"{f.Name}\")) {{ {call} return; }}");
        }
        sb.AppendLine("}");
        sb.AppendLine();

        sb.AppendLine("/* Answers one request of an operation; returns false for an unknown op. */");
        sb.AppendLine("static bool kmm_dispatch(const struct kmm_ops *ops, const struct kmm_req *r)");
        sb.AppendLine("{");
        foreach (var op in Operations.All)
        {
            sb.AppendLine($"    if (kmm_op_is(r, \"{op.Name}\")) {{");
            sb.AppendLine($"        if (!ops->{op.SnakeName}) {{ kmm_unsupported(r); return true; }}");
            var args = new List<string>();
            var gets = new List<string>();
            foreach (var f in op.Fields)
            {
                if (f.Type == WireType.Addresses)
                {
                    sb.AppendLine($"        const uint64_t *{f.Name}; int64_t {f.Name}_count;");
                    gets.Add($"kmm_get_address_list(r, \"{f.Name}\", &{f.Name}, &{f.Name}_count)");
                    args.Add(f.Name);
                    args.Add($"{f.Name}_count");
                    continue;
                }
                if (f.Type == WireType.Bytes)
                {
                    sb.AppendLine($"        const uint8_t *{f.Name}; int64_t {f.Name}_len;");
                    gets.Add($"kmm_get_bytes(r, \"{f.Name}\", &{f.Name}, &{f.Name}_len)");
                    args.Add(f.Name);
                    args.Add($"{f.Name}_len");
                    continue;
                }
                string decl = f.Type == WireType.Text ? $"char {f.Name}[256]" : $"{CType(f.Type)} {f.Name}";
                sb.AppendLine($"        {decl};");
                gets.Add(f.Type == WireType.Text ? $"{CGetter(f.Type)}(r, \"{f.Name}\", {f.Name}, sizeof {f.Name})"
                        : $"{CGetter(f.Type)}(r, \"{f.Name}\", &{f.Name})");
                args.Add(f.Name);
            }
            if (gets.Count > 0) sb.AppendLine($"        if (!({string.Join(" && ", gets)})) return true;");
            var outArgs = op.Value switch
            {
                WireType.Bytes or WireType.UserLoad or WireType.CopiedBytes => args.Append("out"),
                WireType.ResultWithValue => args.Append("&value"),
                WireType.Vma => args.Append("&vma"),
                _ => args,
            };
            string call = $"ops->{op.SnakeName}({string.Join(", ", outArgs)})";
            if (op.Value is WireType.Bytes or WireType.UserLoad or WireType.CopiedBytes)
            {
                if (!op.Fields.Any(f => f.Name == "len" && f.Type == WireType.Integer))
                    throw new InvalidOperationException($"{op.Name} answers bytes: it needs an integer field \"len\"");
                sb.AppendLine("        uint8_t *out = kmm_scratch(r, len);");
                sb.AppendLine("        if (!out) return true;");
            }
            switch (op.Value)
            {
                case WireType.None: sb.AppendLine($"        {call};"); sb.AppendLine("        kmm_answer_null(r);"); break;
                case WireType.Bytes:
                    sb.AppendLine($"        {call};");
                    sb.AppendLine("        kmm_answer_bytes(r, out, len);");
                    break;
                case WireType.UserLoad:
                    sb.AppendLine($"        int fault = {call};");
                    sb.AppendLine("        kmm_answer_user_load(r, fault, out, len);");
                    break;
                case WireType.CopiedBytes:
                    sb.AppendLine($"        int64_t count = {call};");
                    sb.AppendLine("        kmm_answer_copied_bytes(r, out, count, len);");
                    break;
                case WireType.ResultWithValue:
                    sb.AppendLine("        uint64_t value = 0;");
                    sb.AppendLine($"        int64_t result = {call};");
                    sb.AppendLine("        kmm_answer_result_with_value(r, result, value);");
                    break;
                case WireType.Vma:
                    sb.AppendLine("        struct kmm_vma vma = {0};");
                    sb.AppendLine($"        bool found = {call};");
                    sb.AppendLine("        kmm_answer_vma(r, found, &vma);");
                    break;
                case WireType.SlabInfo:
                    sb.AppendLine("        kmm_slabinfo_begin(r);");
                    sb.AppendLine($"        {call};");
                    sb.AppendLine("        kmm_slabinfo_end(r);");
                    break;
                default: sb.AppendLine($"        {CAnswer(op.Value)}(r, {call});"); break;
            }
            sb.AppendLine("        return true;");
            sb.AppendLine("    }");
        }
        sb.AppendLine("    return false;");
        sb.AppendLine("}");
        sb.AppendLine("#endif /* KMM_IMPLEMENTATION */");
        return sb.ToString();
    }

    private static string Plain(string markdown) => markdown.Replace("`", "").Replace("\\\"", "\"").Replace("*/", "* /");

    // ---- Python kit ---------------------------------------------------------------------------------

    private static string PyType(WireType t) => t switch
    {
        WireType.Integer => "integer",
        WireType.Gfp => "mask",
        WireType.SlabFlags => "mask",
        WireType.Address => "address",
        WireType.Zone => "zone",
        WireType.Boolean => "boolean",
        WireType.Text => "text",
        WireType.Bytes => "bytes",
        WireType.OptionalByte => "optional_byte",
        WireType.SlabInfo => "slabinfo",
        WireType.Access => "access",
        WireType.Translation => "translation",
        WireType.Prot => "mask",
        WireType.MapFlags => "mask",
        WireType.OpenMode => "integer",
        WireType.Addresses => "addresses",
        WireType.UserFault => "user_fault",
        WireType.UserLoad => "user_load",
        WireType.CopiedBytes => "copied_bytes",
        WireType.ResultWithValue => "result_with_value",
        WireType.Vma => "vma",
        _ => "none",
    };

    /// <summary>The operation table of kits/python/kmm.py: op → (method, capability, since, changes state, fields, value).</summary>
    public static string PythonTable()
    {
        var sb = new StringBuilder();
        sb.AppendLine(PythonBegin);
        sb.AppendLine($"PROTOCOL = {Operations.LatestVersion}");
        sb.AppendLine("# op: (method, capability, since, changes_state, ((field, type), ...), value type)");
        sb.AppendLine("OPERATIONS = {");
        foreach (var op in Operations.All)
        {
            string fields = string.Concat(op.Fields.Select(f => $"(\"{f.Name}\", \"{PyType(f.Type)}\"), "));
            sb.AppendLine($"    \"{op.Name}\": (\"{op.SnakeName}\", \"{op.Capability}\", {op.Since}, {(op.ChangesState ? "True" : "False")}, ({fields}), \"{PyType(op.Value)}\"),");
        }
        sb.AppendLine("}");
        sb.Append(PythonEnd);
        return sb.ToString();
    }

    /// <summary>Replaces the text between <paramref name="begin"/> and <paramref name="end"/> (markers included) with <paramref name="generated"/>.</summary>
    public static string Splice(string document, string begin, string end, string generated)
    {
        int a = document.IndexOf(begin, StringComparison.Ordinal);
        int b = document.IndexOf(end, StringComparison.Ordinal);
        if (a < 0 || b < a) throw new InvalidOperationException($"markers '{begin}' ... '{end}' not found");
        return document[..a] + generated + document[(b + end.Length)..];
    }
}
