using MaskLab.Data.Layout;
using MaskLab.Models;
using MaskLab.Runs;

namespace MaskLab.Training;

/// <summary>
/// The weights a new run starts from, read before the run folder exists: the model's embedded weights (converted into
/// the cache under MASKLAB_HOME on first use) or a <c>weights</c> file, loaded into a model of the run's shape. A file
/// that cannot be read or does not fit, and a cache that cannot be written, are refused here, so such a run leaves no
/// folder behind; the trainer loads them again (from the cache) when it starts.
/// </summary>
internal static class StartingWeights
{
    /// <summary>Loads the starting weights <paramref name="config"/> names into <paramref name="model"/> (nothing from scratch), saying which.</summary>
    public static void Load(RunConfig config, TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> model, int outputs, int classes,
        ITrainingObserver observer)
    {
        if (config.EmbeddedWeights is { } embedded)
        {
            var r = embedded.LoadInto(model, outputs, MaskLabHome.Root);
            var cache = r.Cache.Outcome == WeightCacheOutcome.Reused ? "" : $"; converted once into {r.Cache.File} in {r.Cache.ConversionSeconds:F1} s";
            observer.Stage($"started from {embedded.Label} weights: {r.Load.Loaded} tensors, classifier fresh for {classes} classes{cache}");
        }
        else if (config.Weights is { Length: > 0 } weights)
        {
            var loaded = Pretrained.Load(model, weights, outputs);
            observer.Stage($"started from {weights}: {loaded.Loaded} tensors loaded{(loaded.SkippedClassifier.Count > 0 ? ", classifier left fresh for " + classes + " classes" : "")}");
        }
    }

    /// <summary>Reads the starting weights of <paramref name="config"/> for a set of <paramref name="set"/>'s classes; nothing when it starts from scratch.</summary>
    /// <exception cref="MaskLabInputException">The weights cannot be read, converted, cached or loaded into the model.</exception>
    public static void Check(RunConfig config, LabeledSet set, ITrainingObserver? observer = null)
    {
        if (config.EmbeddedWeights is null && config.Weights is not { Length: > 0 }) return;
        var (built, head) = RunModel.Create(config, set.ClassCount, set.IsTaskClasses);
        using var model = built;
        if (config.EmbeddedWeights is { } embedded)
        {
            var r = embedded.LoadInto(model, head.Outputs, MaskLabHome.Root);
            if (r.Cache.Outcome != WeightCacheOutcome.Reused)
                observer?.Stage($"{embedded.Label} weights converted once into {r.Cache.File} in {r.Cache.ConversionSeconds:F1} s" +
                    (r.Cache.RebuildReason is { } why ? $" (the cached copy was not usable: {why})" : ""));
        }
        else
        {
            Pretrained.Load(model, config.Weights!, head.Outputs);
        }
    }
}
