using MaskLab.Data.Loading;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Models;

/// <summary>
/// The ImageNet weights of <see cref="MlNetResNet18"/>: ML.NET's DnnImageFeaturizer ResNet18 (NuGet
/// <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> 0.23.1, MIT), whose two ONNX files the build copies to
/// <c>pretrained/mlnet-resnet18/</c> in the output. <c>ResNet18.onnx</c> (63.7 MB) is converted once into
/// <c>&lt;cache&gt;/weights/resnet18_mlnet-&lt;source hash&gt;.safetensors</c>; <c>ResNetPreprocess.onnx</c> gives the
/// input normalisation (0..255 RGB minus the 224x224 ImageNet mean image).
/// </summary>
internal sealed class MlNetResNet18Weights : IEmbeddedWeights
{
    public const string ModelName = "resnet18_mlnet";
    public const string WeightsFileName = "ResNet18.onnx";
    public const string PreprocessFileName = "ResNetPreprocess.onnx";

    /// <summary>Where the build puts the ONNX files: beside the assemblies.</summary>
    public static string DefaultSourceFolder => Path.Combine(AppContext.BaseDirectory, "pretrained", "mlnet-resnet18");

    public static MlNetResNet18Weights Shipped { get; } = new(DefaultSourceFolder);

    readonly Lazy<InputNormalization> _normalization;

    public string SourceFolder { get; }

    public MlNetResNet18Weights(string sourceFolder)
    {
        SourceFolder = sourceFolder;
        _normalization = new Lazy<InputNormalization>(() => MlNetResNet18Onnx.ReadNormalization(SourceFile(PreprocessFileName), ModelName));
    }

    public string Label => "ImageNet-1k (ML.NET)";

    public string Description => "ImageNet-1k (ML.NET's ResNet18 featurizer, CNTK 2.6 export, MIT)";

    public InputNormalization Normalization => _normalization.Value;

    public string SourceFile(string name)
    {
        var file = Path.Combine(SourceFolder, name);
        if (!File.Exists(file))
            throw new MaskLabInputException(
                $"pretrained weights file '{file}' is missing; the build copies it from the NuGet package " +
                "Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1, so build MaskLab again");
        return file;
    }

    /// <summary>The cached conversion for the current source file, converting it first when needed.</summary>
    public WeightCacheResult EnsureConverted(string cacheRoot)
    {
        var source = SourceFile(WeightsFileName);
        var sha = WeightCache.Sha256(source);
        var file = Path.Combine(cacheRoot, "weights", $"{ModelName}-{sha[..16]}.safetensors");
        return WeightCache.Ensure(file, sha, () => MlNetResNet18Onnx.ReadWeights(source));
    }

    public EmbeddedWeightsReport LoadInto(nn.Module model, int outputs, string cacheRoot)
    {
        var cache = EnsureConverted(cacheRoot);
        return new EmbeddedWeightsReport(cache, Pretrained.Load(model, cache.File, outputs));
    }
}
