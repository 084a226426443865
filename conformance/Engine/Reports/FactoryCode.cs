using System.Reflection;
using KernelMm.Conformance.OutOfProcess;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Reports;

/// <summary>
/// C# that builds the judged implementation's factory again, for a printed regression test: the
/// expression, the usings it needs, and whether it must be disposed. Derived from the factory
/// object itself, so an <c>--impl-assembly</c> run prints that assembly's factory, an
/// <c>--impl-command</c> run a <see cref="ProcessFactory"/> of the same command, and the reference
/// <c>new ReferenceFactory()</c>.
/// </summary>
public sealed record FactoryCode(string Expression, IReadOnlyList<string> Usings, bool Disposable = false)
{
    /// <summary>The reference implementation's factory.</summary>
    public static readonly FactoryCode Reference = new("new ReferenceFactory()", ["KernelMm.Reference"]);

    /// <summary>
    /// How to build <paramref name="factory"/>: a <see cref="ProcessFactory"/> by its command line; a public
    /// type by its public parameterless constructor, or by a constructor whose parameters it exposes as
    /// properties of the same names (e.g. a variant's fault). Anything else gets an expression that
    /// compiles and fails the test with a request to build the factory there.
    /// </summary>
    public static FactoryCode For(IImplementationFactory? factory, string implementationName)
    {
        if (factory is null)
            return implementationName == "reference" ? Reference : Placeholder(implementationName);
        if (factory is ProcessFactory process)
            return new($"new ProcessFactory({CSharpLiteral.Quote(process.CommandLine)})", [typeof(ProcessFactory).Namespace!], Disposable: true);
        var type = factory.GetType();
        if (type.FullName == "KernelMm.Reference.ReferenceFactory") return Reference;
        if (!type.IsVisible || type.IsAbstract || type.IsGenericType) return Placeholder(factory.Name);
        bool disposable = typeof(IDisposable).IsAssignableFrom(type);
        if (type.GetConstructor(Type.EmptyTypes) is not null && type.GetConstructors().Length == 1)
            return new($"new {CSharpLiteral.Name(type)}()", [type.Namespace ?? ""], disposable);
        try
        {
            string expression = CSharpLiteral.Of(factory, type);
            return new(expression, CSharpLiteral.Namespaces(factory).Where(n => n.Length > 0).Distinct().ToList(), disposable);
        }
        catch (NotSupportedException)
        {
            return type.GetConstructor(Type.EmptyTypes) is not null
                ? new($"new {CSharpLiteral.Name(type)}()", [type.Namespace ?? ""], disposable)
                : Placeholder(factory.Name);
        }
    }

    /// <summary>An explicit expression (<see cref="ReportOptions.FactoryExpression"/>); the reference's gets its using.</summary>
    public static FactoryCode Of(string expression) =>
        expression == Reference.Expression ? Reference : new(expression, []);

    private static FactoryCode Placeholder(string name) =>
        new($"default(IImplementationFactory) ?? throw new NotImplementedException({CSharpLiteral.Quote($"build the IImplementationFactory of '{name}' here")})",
            ["System", typeof(IImplementationFactory).Namespace!]);
}
