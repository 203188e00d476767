using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Models;

/// <summary>What a model factory needs: the class count and the input size (ViT / Mixer size their position grid by it).</summary>
public sealed record ModelSpec(int NumClasses, int Width, int Height);

/// <summary>Makes models by name, like timm's create_model. One line per architecture.</summary>
public static class ModelRegistry
{
    public sealed record Entry(string Name, string Family, Func<ModelSpec, nn.Module<Tensor, Tensor>> Create);

    static readonly Dictionary<string, Entry> Entries = new(StringComparer.OrdinalIgnoreCase);

    static ModelRegistry()
    {
        Add("baseline", "baseline", s => new BaseModel(s.NumClasses));
        Add("resnet18", "resnet", s => TorchVisionModels.ResNet18(s.NumClasses));
        Add("resnet34", "resnet", s => TorchVisionModels.ResNet34(s.NumClasses));
        Add("resnet50", "resnet", s => TorchVisionModels.ResNet50(s.NumClasses));
    }

    static void Add(string name, string family, Func<ModelSpec, nn.Module<Tensor, Tensor>> create) =>
        Entries[name] = new Entry(name, family, create);

    public static IReadOnlyList<string> Names => Entries.Keys.Order(StringComparer.Ordinal).ToArray();

    public static bool Contains(string name) => Entries.ContainsKey(name);

    /// <summary>Builds the named model; an unknown name is a <see cref="MaskLabInputException"/> listing the known ones.</summary>
    public static nn.Module<Tensor, Tensor> Create(string name, ModelSpec spec)
    {
        if (!Entries.TryGetValue(name, out var entry))
            throw new MaskLabInputException($"unknown model '{name}'; known: {string.Join(", ", Names)}");
        return entry.Create(spec);
    }
}
