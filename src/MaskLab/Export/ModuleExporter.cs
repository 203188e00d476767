using System.Collections;
using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Export;

/// <summary>
/// Writes the nodes of one module into the graph: <paramref name="path"/> is its dotted name in the model
/// (a state_dict prefix, empty for the model itself), <paramref name="input"/> the value its forward receives.
/// </summary>
internal delegate OnnxValue ModuleConverter(ModuleExporter exporter, nn.Module module, string path, OnnxValue input);

/// <summary>
/// Walks a model's module tree, handing each module to the converter registered for its exact .NET type. A type
/// without a converter, a module whose children differ from what its converter knows, or a module with forward
/// hooks is refused with one line naming it: a graph the exporter cannot vouch for is never written.
/// </summary>
internal sealed class ModuleExporter
{
    readonly IReadOnlyDictionary<Type, ModuleConverter> _converters;

    public ModuleExporter(OnnxGraph graph, string modelName, IReadOnlyDictionary<Type, ModuleConverter> converters)
    {
        Graph = graph;
        ModelName = modelName;
        _converters = converters;
    }

    public OnnxGraph Graph { get; }

    public string ModelName { get; }

    public OnnxValue Convert(nn.Module module, string path, OnnxValue input)
    {
        if (!_converters.TryGetValue(module.GetType(), out var converter))
            throw Refuse(module, path, "has no ONNX converter");
        ExpectNoHooks(module, path);
        return converter(this, module, path, input);
    }

    /// <summary>
    /// The child <paramref name="name"/> as a <typeparamref name="T"/>, for a converter that emits the layer itself
    /// (e.g. with padding its model applies in the forward), checked for hooks as <see cref="Convert"/> does.
    /// </summary>
    public T Layer<T>(nn.Module parent, string path, string name) where T : nn.Module
    {
        var child = ChildModule(parent, path, name) as T
            ?? throw Refuse(parent, path, $"has a '{name}' that is not a {typeof(T).Name}");
        ExpectNoHooks(child, Join(path, name));
        return child;
    }

    void ExpectNoHooks(nn.Module module, string path)
    {
        var allowedHooks = module is TorchSharp.Modules.Conv2d conv && Models.TorchVisionModels.SubsamplesInput(conv) ? 1 : 0;
        var hooks = HookCount(module);
        if (hooks < 0) throw Refuse(module, path, "may have forward hooks that this TorchSharp version hides from the exporter");
        if (hooks > allowedHooks) throw Refuse(module, path, "has forward hooks, which change its forward in ways the exporter cannot see");
    }

    /// <summary>Converts the child <paramref name="name"/> of <paramref name="parent"/> on <paramref name="input"/>.</summary>
    public OnnxValue Child(nn.Module parent, string path, string name, OnnxValue input) =>
        Convert(ChildModule(parent, path, name), Join(path, name), input);

    public nn.Module ChildModule(nn.Module parent, string path, string name)
    {
        foreach (var (n, m) in parent.named_children())
            if (n == name) return m;
        throw Refuse(parent, path, $"has no submodule '{name}'");
    }

    /// <summary>
    /// Refuses a module whose registered children are not exactly <paramref name="required"/> plus any of
    /// <paramref name="optional"/>: a converter rewrites its module's forward, which a changed layout would falsify.
    /// </summary>
    public void ExpectChildren(nn.Module module, string path, string[] required, params string[] optional)
    {
        var names = module.named_children().Select(c => c.name).ToHashSet(StringComparer.Ordinal);
        var missing = required.Where(r => !names.Contains(r)).ToList();
        var extra = names.Where(n => !required.Contains(n) && !optional.Contains(n)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw Refuse(module, path,
                $"is laid out differently from what its converter knows (missing: {Describe(missing)}; unexpected: {Describe(extra)})");

        static string Describe(List<string> items) => items.Count == 0 ? "none" : string.Join(", ", items);
    }

    /// <summary>The parameter <paramref name="name"/> of <paramref name="module"/> itself, as a weight initializer.</summary>
    public OnnxValue Parameter(nn.Module module, string path, string name, Tensor? tensor = null)
    {
        tensor ??= module.named_parameters(recurse: false).FirstOrDefault(p => p.name == name).parameter
            ?? throw Refuse(module, path, $"has no parameter '{name}'");
        return Graph.Weight(Join(path, name), tensor);
    }

    /// <summary>
    /// The output shape of a layer on an input of <paramref name="inputShape"/>, found by running the layer itself
    /// (through <c>call</c>, so hooks apply) on zeros: exact for every padding, ceil and dilation setting.
    /// </summary>
    public long[] TorchShape(nn.Module module, string path, long[] inputShape)
    {
        if (module is not nn.Module<Tensor, Tensor> layer) throw Refuse(module, path, "does not map a tensor to a tensor");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var p = module.parameters().FirstOrDefault();
        var x = zeros(inputShape, p?.dtype ?? ScalarType.Float32, p?.device ?? CPU);
        return layer.call(x).shape;
    }

    public MaskLabInputException Refuse(nn.Module module, string path, string why) =>
        new($"cannot export '{ModelName}' to ONNX: module '{(path.Length == 0 ? "(model)" : path)}' " +
            $"({module.GetType().FullName ?? module.GetType().Name}) {why}");

    public static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    static readonly string[] HookFields = ["pre_hooks", "post_hooks", "module_pre_hooks", "module_post_hooks"];

    /// <summary>
    /// How many forward hooks a module has; -1 when it derives from TorchSharp's hookable base but the hook tables
    /// are not where TorchSharp 0.107 keeps them. TorchSharp has no public way to ask.
    /// </summary>
    internal static int HookCount(nn.Module module)
    {
        for (var t = module.GetType(); t is not null; t = t.BaseType)
        {
            if (!t.IsGenericType || t.GetGenericTypeDefinition() != typeof(nn.HookableModule<,>)) continue;
            var count = 0;
            foreach (var name in HookFields)
            {
                if (t.GetField(name, BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(module) is not ICollection table)
                    return -1;
                count += table.Count;
            }
            return count;
        }
        return 0;
    }

    /// <summary>A private field of a library module (TorchVision keeps some forward switches private); refused when absent.</summary>
    public T PrivateField<T>(nn.Module module, string path, string field)
    {
        for (var t = module.GetType(); t is not null; t = t.BaseType)
        {
            var f = t.GetField(field, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly);
            if (f is not null && f.GetValue(module) is T value) return value;
        }
        throw Refuse(module, path, $"has no field '{field}' of type {typeof(T).Name}, which its converter reads");
    }
}
