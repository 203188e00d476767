using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Models;

/// <summary>What a model factory needs: the class count and the input size (ViT / Mixer size their position grid by it).</summary>
public sealed record ModelSpec(int NumClasses, int Width, int Height);

/// <summary>Makes models by name, like timm's create_model. One line per architecture.</summary>
public static class ModelRegistry
{
    public sealed record Entry(string Name, string Family, Func<ModelSpec, nn.Module<Tensor, Tensor>> Create)
    {
        /// <summary>Whose state_dict names <c>weights=FILE</c> loads without renames (see <see cref="Pretrained"/>).</summary>
        public string Checkpoints { get; init; } = "";

        /// <summary>Weights that ship with MaskLab for this model; null when it has none.</summary>
        public IEmbeddedWeights? Embedded { get; init; }
    }

    static readonly Dictionary<string, Entry> Entries = new(StringComparer.OrdinalIgnoreCase);

    static ModelRegistry()
    {
        Add("baseline", "baseline", s => new BaseModel(s.NumClasses));
        Add("resnet18", "resnet", s => TorchVisionModels.ResNet18(s.NumClasses));
        Add("resnet34", "resnet", s => TorchVisionModels.ResNet34(s.NumClasses));
        Add("resnet18_mlnet", "resnet", s => new MlNetResNet18(s.NumClasses), "MaskLab's own", MlNetResNet18Weights.Shipped);
        Add("resnet50", "resnet", s => TorchVisionModels.ResNet50(s.NumClasses));
        Add("resnext50_32x4d", "resnet", s => TorchVisionModels.ResNeXt50_32x4d(s.NumClasses));
        Add("vgg11", "vgg", s => TorchVisionModels.Vgg11(s.NumClasses));
        Add("vgg16", "vgg", s => TorchVisionModels.Vgg16(s.NumClasses));
        Add("vgg11_bn", "vgg", s => TorchVisionModels.Vgg11Bn(s.NumClasses));
        Add("vgg16_bn", "vgg", s => TorchVisionModels.Vgg16Bn(s.NumClasses));
        Add("googlenet", "googlenet", s => TorchVisionModels.GoogLeNet(s.NumClasses));
        Add("mobilenet_v3_small", "mobilenet", s => TorchVisionModels.MobileNetV3Small(s.NumClasses));
        Add("mobilenet_v3_large", "mobilenet", s => TorchVisionModels.MobileNetV3Large(s.NumClasses));
        Add("efficientnet_b0", "efficientnet", s => new EfficientNet(EfficientNetConfig.B0, s.NumClasses));
        Add("efficientnet_b1", "efficientnet", s => new EfficientNet(EfficientNetConfig.B1, s.NumClasses));
        Add("efficientnet_b2", "efficientnet", s => new EfficientNet(EfficientNetConfig.B2, s.NumClasses));
        Add("efficientnet_b3", "efficientnet", s => new EfficientNet(EfficientNetConfig.B3, s.NumClasses));
        Add("vit_tiny_patch16", "vit", s => new VisionTransformer(VitConfig.Tiny16, s));
        Add("vit_small_patch16", "vit", s => new VisionTransformer(VitConfig.Small16, s));
        Add("mixer_s16", "mixer", s => new MlpMixer(MixerConfig.S16, s));
        Add("mixer_b16", "mixer", s => new MlpMixer(MixerConfig.B16, s));
    }

    static void Add(string name, string family, Func<ModelSpec, nn.Module<Tensor, Tensor>> create,
        string? checkpoints = null, IEmbeddedWeights? embedded = null) =>
        Entries[name] = new Entry(name, family, create) { Checkpoints = checkpoints ?? CheckpointsOf(family), Embedded = embedded };

    /// <summary>The checkpoint names a family follows: torchvision's, timm's (EfficientNet maps timm's to its own), or none.</summary>
    static string CheckpointsOf(string family) => family switch
    {
        "resnet" or "vgg" or "googlenet" or "mobilenet" => "torchvision",
        "efficientnet" => "torchvision, timm",
        "vit" or "mixer" => "timm",
        _ => "MaskLab's own",
    };

    public static IReadOnlyList<string> Names => Entries.Keys.Order(StringComparer.Ordinal).ToArray();

    public static bool Contains(string name) => Entries.ContainsKey(name);

    /// <summary>The architecture family of a registered name (e.g. <c>resnet</c>, <c>vit</c>), for listings.</summary>
    public static string Family(string name) =>
        Entries.TryGetValue(name, out var entry) ? entry.Family
            : throw new MaskLabInputException($"unknown model '{name}'; known: {string.Join(", ", Names)}");

    /// <summary>The registry entry of a name; an unknown name is a <see cref="MaskLabInputException"/> listing the known ones.</summary>
    public static Entry Get(string name) =>
        Entries.TryGetValue(name, out var entry) ? entry
            : throw new MaskLabInputException($"unknown model '{name}'; known: {string.Join(", ", Names)}");

    /// <summary>Builds the named model; an unknown name is a <see cref="MaskLabInputException"/> listing the known ones.</summary>
    public static nn.Module<Tensor, Tensor> Create(string name, ModelSpec spec)
    {
        if (!Entries.TryGetValue(name, out var entry))
            throw new MaskLabInputException($"unknown model '{name}'; known: {string.Join(", ", Names)}");
        return entry.Create(spec);
    }
}
