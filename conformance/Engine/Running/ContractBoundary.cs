using System.Collections.Concurrent;
using System.Reflection;
using System.Reflection.Emit;
using KernelMm.Conformance.Checking;
using KernelMm.Conformance.Families.Shared;
using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Running;

/// <summary>
/// The line between the suite and the implementation it judges. Every sequence runs against a thin
/// proxy of the booted instance that implements the same contract interfaces and forwards every
/// call; when a call fails as a call, the proxy's <see cref="CallRecorder"/> records which call it
/// was (with its arguments, as the last step of the counterexample) and the instance is not called
/// again in that sequence, so the step reaches its next check, which reports the failure against
/// its rule (<see cref="CheckScope"/>).
/// </summary>
/// <remarks>
/// The proxy type is emitted once per implementation type, for the public interfaces it implements
/// from the contract assembly and this engine (so optional engine interfaces such as
/// <c>IQueryPrefetch</c> keep working), whatever members they gain. <c>out</c> parameters are
/// forwarded (and set to their default when the instance is not called). An interface the proxy cannot
/// forward (ref or generic members) leaves the instance unwrapped: crashes are then charged to
/// the family's primary rule as before.
/// </remarks>
internal static class ContractBoundary
{
    private static readonly ConcurrentDictionary<Type, Proxy?> Proxies = new();
    private static readonly Lazy<ModuleBuilder> Module = new(DefineModule);
    private static int _serial;

    private sealed record Proxy(Func<object, CallRecorder, object> Create, MethodInfo[] Methods);

    /// <summary>The instance behind a proxy that reports to <paramref name="recorder"/>, or null when its type cannot be proxied.</summary>
    public static IMemoryManager? Wrap(IMemoryManager target, CallRecorder recorder)
    {
        var proxy = Proxies.GetOrAdd(target.GetType(), Build);
        if (proxy is null) return null;
        recorder.Methods = proxy.Methods;
        return (IMemoryManager)proxy.Create(target, recorder);
    }

    private static ModuleBuilder DefineModule()
    {
        var assembly = AssemblyBuilder.DefineDynamicAssembly(new AssemblyName("KernelMm.Conformance.Boundary"), AssemblyBuilderAccess.Run);
        var module = assembly.DefineDynamicModule("KernelMm.Conformance.Boundary");
        // The proxies read the recorder's internal members: let the runtime skip the access check
        // for this engine, as System.Reflection.DispatchProxy does for its proxies.
        var attribute = module.DefineType("System.Runtime.CompilerServices.IgnoresAccessChecksToAttribute",
            TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Class, typeof(Attribute));
        var field = attribute.DefineField("_name", typeof(string), FieldAttributes.Private);
        var ctor = attribute.DefineConstructor(MethodAttributes.Public, CallingConventions.Standard, [typeof(string)]);
        var il = ctor.GetILGenerator();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Call, typeof(Attribute).GetConstructor(BindingFlags.NonPublic | BindingFlags.Instance, Type.EmptyTypes)!);
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Stfld, field);
        il.Emit(OpCodes.Ret);
        var attributeType = attribute.CreateType();
        assembly.SetCustomAttribute(new CustomAttributeBuilder(attributeType.GetConstructor([typeof(string)])!, [typeof(ContractBoundary).Assembly.GetName().Name!]));
        return module;
    }

    private static bool Forwardable(Type iface) =>
        (iface.IsPublic || iface.IsNestedPublic)
        && (iface.Assembly == typeof(IMemoryManager).Assembly || iface.Assembly == typeof(ContractBoundary).Assembly || iface == typeof(IDisposable));

    private static Proxy? Build(Type type)
    {
        var interfaces = type.GetInterfaces().Where(Forwardable).ToArray();
        if (!interfaces.Contains(typeof(IMemoryManager))) return null;
        var methods = interfaces.SelectMany(i => i.GetMethods(BindingFlags.Public | BindingFlags.Instance)).ToArray();
        if (interfaces.Any(i => i.IsGenericType) || methods.Any(m => !Supported(m))) return null;

        lock (Module)
        {
            var module = Module.Value;
            var tb = module.DefineType($"KernelMm.Conformance.Boundary.{type.Name}Proxy{++_serial}",
                TypeAttributes.NotPublic | TypeAttributes.Sealed | TypeAttributes.Class, typeof(object), interfaces);
            var target = tb.DefineField("_target", typeof(object), FieldAttributes.Private | FieldAttributes.InitOnly);
            var hook = tb.DefineField("_hook", typeof(CallRecorder), FieldAttributes.Private | FieldAttributes.InitOnly);

            var ctor = tb.DefineConstructor(MethodAttributes.Public, CallingConventions.Standard, [typeof(object), typeof(CallRecorder)]);
            var cil = ctor.GetILGenerator();
            cil.Emit(OpCodes.Ldarg_0);
            cil.Emit(OpCodes.Call, typeof(object).GetConstructor(Type.EmptyTypes)!);
            cil.Emit(OpCodes.Ldarg_0);
            cil.Emit(OpCodes.Ldarg_1);
            cil.Emit(OpCodes.Stfld, target);
            cil.Emit(OpCodes.Ldarg_0);
            cil.Emit(OpCodes.Ldarg_2);
            cil.Emit(OpCodes.Stfld, hook);
            cil.Emit(OpCodes.Ret);

            for (int i = 0; i < methods.Length; i++) Forward(tb, target, hook, methods[i], i);

            // static object Create(object target, CallRecorder hook) => new Proxy(target, hook);  (no reflection per sequence)
            var create = tb.DefineMethod("Create", MethodAttributes.Public | MethodAttributes.Static, typeof(object), [typeof(object), typeof(CallRecorder)]);
            var fil = create.GetILGenerator();
            fil.Emit(OpCodes.Ldarg_0);
            fil.Emit(OpCodes.Ldarg_1);
            fil.Emit(OpCodes.Newobj, ctor);
            fil.Emit(OpCodes.Ret);

            var created = tb.CreateType();
            var make = created.GetMethod("Create")!.CreateDelegate<Func<object, CallRecorder, object>>();
            return new Proxy(make, methods);
        }
    }

    private static bool Supported(MethodInfo m) =>
        !m.IsStatic && !m.IsGenericMethodDefinition && !m.ReturnType.IsByRef && !m.ReturnType.IsPointer
        && m.GetParameters().All(p => (!p.ParameterType.IsByRef || p.IsOut) && !p.ParameterType.IsPointer);

    /// <summary>
    /// <code>
    /// R I.M(args) {
    ///     _hook.Calls++;                                      // not for IMemoryManager's own members
    ///     if (_hook.Dead) return _hook.DeadResult(i);          // the instance failed: do not call it again
    ///     try { return ((I)_target).M(args); }
    ///     catch (Exception e) { if (!_hook.Failed(i, e, args)) return default; throw; }
    /// }
    /// </code>
    /// </summary>
    private static void Forward(TypeBuilder tb, FieldInfo target, FieldInfo hook, MethodInfo m, int index)
    {
        var parameters = m.GetParameters();
        var types = parameters.Select(p => p.ParameterType).ToArray();
        var mb = tb.DefineMethod($"{m.DeclaringType!.FullName}.{m.Name}",
            MethodAttributes.Private | MethodAttributes.HideBySig | MethodAttributes.NewSlot | MethodAttributes.Virtual | MethodAttributes.Final,
            m.ReturnType, types);
        tb.DefineMethodOverride(mb, m);
        var il = mb.GetILGenerator();
        bool returns = m.ReturnType != typeof(void);
        var result = returns ? il.DeclareLocal(m.ReturnType) : null;
        var error = il.DeclareLocal(typeof(Exception));
        var dead = il.DefineLabel();

        if (m.DeclaringType != typeof(IMemoryManager) && m.DeclaringType != typeof(IDisposable))
        {
            // A request to the implementation (the instance's profile and capabilities are not).
            var calls = typeof(CallRecorder).GetField(nameof(CallRecorder.Calls))!;
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ldfld, hook);
            il.Emit(OpCodes.Dup);
            il.Emit(OpCodes.Ldfld, calls);
            il.Emit(OpCodes.Ldc_I4_1);
            il.Emit(OpCodes.Add);
            il.Emit(OpCodes.Stfld, calls);
        }
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldfld, hook);
        il.Emit(OpCodes.Ldfld, typeof(CallRecorder).GetField(nameof(CallRecorder.Dead))!);
        il.Emit(OpCodes.Brtrue, dead);

        il.BeginExceptionBlock();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldfld, target);
        il.Emit(OpCodes.Castclass, m.DeclaringType!);
        for (int p = 0; p < parameters.Length; p++) il.Emit(OpCodes.Ldarg, (short)(p + 1));
        il.Emit(OpCodes.Callvirt, m);
        if (returns) il.Emit(OpCodes.Stloc, result!);
        il.BeginCatchBlock(typeof(Exception));
        il.Emit(OpCodes.Stloc, error);
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldfld, hook);
        il.Emit(OpCodes.Ldc_I4, index);
        il.Emit(OpCodes.Ldloc, error);
        il.Emit(OpCodes.Ldc_I4, parameters.Length);
        il.Emit(OpCodes.Newarr, typeof(object));
        for (int p = 0; p < parameters.Length; p++)
        {
            var t = types[p];
            if (t.IsByRefLike || t.IsByRef) continue; // a span or an out parameter: left null, rendered as "default"
            il.Emit(OpCodes.Dup);
            il.Emit(OpCodes.Ldc_I4, p);
            il.Emit(OpCodes.Ldarg, (short)(p + 1));
            if (t.IsValueType) il.Emit(OpCodes.Box, t);
            il.Emit(OpCodes.Stelem_Ref);
        }
        il.Emit(OpCodes.Callvirt, typeof(CallRecorder).GetMethod(nameof(CallRecorder.Failed))!);
        var swallow = il.DefineLabel();
        il.Emit(OpCodes.Brfalse, swallow);
        il.Emit(OpCodes.Rethrow);
        il.MarkLabel(swallow);
        il.Emit(OpCodes.Leave, dead);
        il.EndExceptionBlock();
        if (returns) il.Emit(OpCodes.Ldloc, result!);
        il.Emit(OpCodes.Ret);

        il.MarkLabel(dead);
        // The instance was not called (or failed): out parameters get their default.
        for (int p = 0; p < parameters.Length; p++)
        {
            if (!types[p].IsByRef) continue;
            il.Emit(OpCodes.Ldarg, (short)(p + 1));
            il.Emit(OpCodes.Initobj, types[p].GetElementType()!);
        }
        if (!returns) { il.Emit(OpCodes.Ret); return; }
        if (m.ReturnType.IsValueType)
        {
            il.Emit(OpCodes.Ldloca, result!);
            il.Emit(OpCodes.Initobj, m.ReturnType);
            il.Emit(OpCodes.Ldloc, result!);
        }
        else
        {
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ldfld, hook);
            il.Emit(OpCodes.Ldc_I4, index);
            il.Emit(OpCodes.Callvirt, typeof(CallRecorder).GetMethod(nameof(CallRecorder.DeadResult))!);
            il.Emit(OpCodes.Castclass, m.ReturnType);
        }
        il.Emit(OpCodes.Ret);
    }
}

/// <summary>
/// What the contract boundary of one sequence saw: the first call that failed as a call, and
/// whether the instance may still be called. See <see cref="ContractBoundary"/>.
/// </summary>
internal sealed class CallRecorder(Trace trace, string primaryRule)
{
    /// <summary>Set once a call has failed: later calls return defaults without reaching the implementation.</summary>
    public bool Dead;

    /// <summary>Requests that reached the boundary in this sequence (calls of the capability interfaces, not the instance's Profile or Capabilities).</summary>
    public int Calls;

    /// <summary>The failed call no check has reported yet.</summary>
    public CallFailure? Pending { get; set; }

    internal MethodInfo[] Methods { get; set; } = [];

    /// <summary>
    /// Called by the proxy when a call raised <paramref name="e"/>. Returns true to let it propagate:
    /// an ordinary exception inside <see cref="Families.Shared.Calls.Try"/> is a result the check judges (a refused
    /// call, a wrong error). Anything else is a failure of the call: recorded as the last step, the
    /// instance is not called again, and it propagates only into <see cref="Families.Shared.Calls.Try"/> (which hands
    /// it to the check); outside it, the call returns a default and the next check reports it.
    /// </summary>
    public bool Failed(int method, Exception e, object?[] args)
    {
        bool inTry = Families.Shared.Calls.InsideTry;
        if (inTry && e is not OutOfProcess.ImplementationFaultException) return true;
        Dead = true;
        if (Pending is null)
        {
            var (call, code) = CallText.Render(Methods[method], args);
            // A process that was dead before its first call (it did not boot), or that outgrew its
            // memory limit (noticed at whatever call came next), did not fail because of this call.
            bool notTheCall = e is OutOfProcess.ImplementationMemoryLimitException or OutOfProcess.ImplementationStartException
                              || (e is OutOfProcess.ImplementationFaultException && Calls == 1);
            Pending = new CallFailure(call, code, e) { ChargedTo = notTheCall ? primaryRule : null };
            trace.Last($"{call} -> {Families.Shared.Calls.Describe(e)}", code);
        }
        return inTry;
    }

    /// <summary>What a call of a dead instance returns when its type is a reference type: an empty collection where one fits, else null.</summary>
    public object? DeadResult(int method)
    {
        var type = Methods[method].ReturnType;
        if (type == typeof(string)) return "";
        if (type.IsArray) return Array.CreateInstance(type.GetElementType()!, 0);
        if (type.IsGenericType && type.GetGenericArguments() is [var element])
        {
            var empty = Array.CreateInstance(element, 0);
            if (type.IsInstanceOfType(empty)) return empty;
            var set = Activator.CreateInstance(typeof(HashSet<>).MakeGenericType(element))!;
            if (type.IsInstanceOfType(set)) return set;
        }
        return null;
    }
}

/// <summary>A contract call as a kernel-style line and as a C# statement, for the step that failed.</summary>
internal static class CallText
{
    private static readonly Dictionary<Type, string> Variables = new()
    {
        [typeof(IPageAllocator)] = "pages", [typeof(IKernelMemory)] = "mem", [typeof(IExecutionContext)] = "ctx",
        [typeof(IHighmem)] = "hm", [typeof(IReclaim)] = "rc", [typeof(IKmalloc)] = "km", [typeof(ISlab)] = "slab",
        [typeof(IMemoryManager)] = "mm",
    };

    public static (string Kernel, string CSharp) Render(MethodInfo method, object?[] args)
    {
        var parameters = method.GetParameters();
        string receiver = Variables.TryGetValue(method.DeclaringType!, out var v) ? v : $"(({method.DeclaringType!.Name})mm)";
        bool getter = method.IsSpecialName && method.Name.StartsWith("get_", StringComparison.Ordinal) && parameters.Length == 0;
        string member = getter ? method.Name[4..] : method.Name;
        string kernelArgs = string.Join(", ", parameters.Select((p, i) => Kernel(args.Length > i ? args[i] : null, p.ParameterType)));
        string csharpArgs = string.Join(", ", parameters.Select((p, i) => p.IsOut ? "out _" : p.ParameterType.IsByRefLike ? "default" : CSharpLiteral.Of(args.Length > i ? args[i] : null, p.ParameterType)));
        string kernel = $"{Snake(member)}({kernelArgs})";
        string code = getter ? $"_ = {receiver}.{member};" : $"{receiver}.{member}({csharpArgs});";
        return (kernel, code);
    }

    private static string Kernel(object? value, Type type) => value switch
    {
        null => type.IsByRefLike ? "<buffer>" : type.IsByRef ? "&value" : "NULL",
        GfpFlags gfp => Gfp.Describe(gfp),
        Zone zone => zone.KernelName(),
        ulong n => $"0x{n:x}",
        string s => CSharpLiteral.Quote(s),
        _ => value.ToString() ?? "",
    };

    /// <summary>"GetFreePages" → "get_free_pages".</summary>
    public static string Snake(string name)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c) && i > 0 && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1])))) sb.Append('_');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }
}
