using System.Reflection;
using System.Runtime.Loader;
using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>
/// Loads an in-process implementation from a .NET assembly (<c>--impl-assembly</c>): the .dll is
/// loaded into its own load context with its own dependencies, sharing only the contract assembly
/// (KernelMm.Spec) with the runner, and its public <see cref="IImplementationFactory"/> with a
/// public parameterless constructor is instantiated.
/// </summary>
public static class AssemblyFactory
{
    /// <summary>
    /// Loads <paramref name="path"/> and instantiates its factory. With several factories in the
    /// assembly, <paramref name="typeName"/> (full or simple name) picks one.
    /// Errors: <see cref="ArgumentException"/> naming what is wrong (missing file, not a .NET
    /// assembly, no factory or several, constructor failure), so a CLI can treat it as bad usage.
    /// </summary>
    public static IImplementationFactory Load(string path, string? typeName = null)
    {
        string full;
        try { full = Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new ArgumentException($"--impl-assembly: not a usable path '{path}'", e);
        }
        if (!File.Exists(full)) throw new ArgumentException($"--impl-assembly: '{path}' does not exist");

        Assembly assembly;
        try
        {
            assembly = new PluginLoadContext(full).LoadFromAssemblyPath(full);
        }
        catch (Exception e) when (e is BadImageFormatException or FileLoadException or FileNotFoundException)
        {
            throw new ArgumentException($"--impl-assembly: '{path}' is not a loadable .NET assembly: {e.Message}", e);
        }

        Type[] types;
        try { types = assembly.GetExportedTypes(); }
        catch (ReflectionTypeLoadException e) { types = e.Types.Where(t => t is not null && t.IsPublic).ToArray()!; }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or TypeLoadException)
        {
            throw new ArgumentException($"--impl-assembly: the types of '{path}' cannot be loaded (a missing dependency?): {e.Message}", e);
        }

        var factories = types
            .Where(t => t is { IsClass: true, IsAbstract: false, IsGenericTypeDefinition: false }
                        && typeof(IImplementationFactory).IsAssignableFrom(t)
                        && t.GetConstructor(Type.EmptyTypes) is not null)
            .ToList();
        if (typeName is not null)
            factories = factories.Where(t => t.FullName == typeName || t.Name == typeName).ToList();

        if (factories.Count == 0)
        {
            bool wrongContract = types.Any(t => t.GetInterfaces().Any(i => i.FullName == typeof(IImplementationFactory).FullName && i != typeof(IImplementationFactory)));
            throw new ArgumentException(
                $"--impl-assembly: '{path}' has no public class implementing {typeof(IImplementationFactory).FullName} with a public parameterless constructor" +
                (typeName is not null ? $" named '{typeName}'" : "") +
                (wrongContract ? " (it implements the interface of another copy of KernelMm.Spec: build it against this runner's contract)" : ""));
        }
        if (factories.Count > 1)
            throw new ArgumentException($"--impl-assembly: '{path}' has several factories ({string.Join(", ", factories.Select(t => t.FullName))}); name one");

        try
        {
            return (IImplementationFactory)Activator.CreateInstance(factories[0])!;
        }
        catch (TargetInvocationException e)
        {
            throw new ArgumentException($"--impl-assembly: the constructor of {factories[0].FullName} failed: {e.InnerException?.Message}", e.InnerException ?? e);
        }
    }

    /// <summary>Resolves the plugin's own dependencies next to it; the contract (and the framework) come from the runner.</summary>
    private sealed class PluginLoadContext(string path) : AssemblyLoadContext($"implementation:{Path.GetFileName(path)}")
    {
        private readonly AssemblyDependencyResolver _resolver = new(path);
        private readonly string _directory = Path.GetDirectoryName(path)!;
        private static readonly string Contract = typeof(IImplementationFactory).Assembly.GetName().Name!;

        protected override Assembly? Load(AssemblyName name)
        {
            // The contract must be the runner's own copy, or the plugin's types would not match its interfaces.
            if (name.Name == Contract) return typeof(IImplementationFactory).Assembly;
            if (Default.Assemblies.Any(a => a.GetName().Name == name.Name && a.GetName().Version >= name.Version)) return null;
            string? file = _resolver.ResolveAssemblyToPath(name);
            if (file is null)
            {
                string local = Path.Combine(_directory, name.Name + ".dll");
                if (File.Exists(local)) file = local;
            }
            return file is null ? null : LoadFromAssemblyPath(file);
        }

        protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
        {
            string? file = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
            return file is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(file);
        }
    }
}
