using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Models;

/// <summary>
/// A model whose pooled features (what its classifier reads) can be taken on their own, so that other heads
/// (e.g. separate mask / gender / age heads) can sit on the same backbone.
/// </summary>
internal interface IFeatureModel
{
    /// <summary>Width of the pooled feature vector (the classifier's in_features).</summary>
    long NumFeatures { get; }

    /// <summary>Backbone and pooling, without the classifier: [N, 3, H, W] to [N, NumFeatures].</summary>
    Tensor forward_features(Tensor x);
}

/// <summary>
/// A model whose parameter names differ from those of a reference checkpoint family (e.g. timm's EfficientNet),
/// or whose tensors must be reshaped to load (e.g. a ViT position embedding trained at another size).
/// </summary>
internal interface IWeightMapping
{
    /// <summary>The model's name for a checkpoint key; the key itself when it needs no rename.</summary>
    string MapKey(string key) => key;

    /// <summary>Whether a checkpoint key is known to have no counterpart here and is dropped without complaint.</summary>
    bool Ignores(string key) => false;

    /// <summary>The checkpoint tensor for <paramref name="key"/> (already mapped) made to fit <paramref name="target"/>'s shape, or itself.</summary>
    Tensor Adapt(string key, Tensor value, Tensor target) => value;
}

/// <summary>Helpers that find the parts of any model, ours or TorchVision's.</summary>
internal static class ModelParts
{
    /// <summary>
    /// The classifier: the last Linear (in registration order) with <paramref name="numClasses"/> outputs, as its
    /// dotted path, e.g. <c>fc</c>, <c>classifier.6</c>, <c>head</c>; null when none has that many outputs.
    /// </summary>
    public static (string Path, Linear Layer)? FindClassifier(nn.Module model, int numClasses)
    {
        (string, Linear)? found = null;
        foreach (var (name, module) in model.named_modules())
            if (module is Linear linear && linear.out_features == numClasses)
                found = (name, linear);
        return found;
    }

    public static long CountParameters(nn.Module model) => model.parameters().Sum(p => p.numel());

    /// <summary>
    /// Fills <paramref name="tensor"/> from N(0, std²) truncated to [lower, upper] by redrawing what falls outside.
    /// libtorch's own trunc_normal_ as TorchSharp 0.107 exposes it returns an infinity now and then (about one
    /// ViT-Small in three had one), which turns the first forward into NaN.
    /// </summary>
    internal static void TruncatedNormal(Tensor tensor, double std, double lower = -2.0, double upper = 2.0)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        tensor.normal_(0.0, std);
        for (var i = 0; i < 100; i++)
        {
            var outside = tensor.lt(lower).logical_or_(tensor.gt(upper));
            if (!outside.any().item<bool>()) return;
            tensor.copy_(where(outside, empty_like(tensor).normal_(0.0, std), tensor));
        }
        tensor.clamp_(lower, upper);
    }
}
