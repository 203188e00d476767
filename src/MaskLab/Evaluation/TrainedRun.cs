using MaskLab.Data;
using MaskLab.Models;
using MaskLab.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Evaluation;

/// <summary>A finished run loaded for inference: its config, training result and best weights.</summary>
public sealed class TrainedRun : IDisposable
{
    public required RunDirectory Directory { get; init; }
    public required RunConfig Config { get; init; }
    public required TrainingResult Result { get; init; }
    public required nn.Module<Tensor, Tensor> Model { get; init; }
    public required IOutputHead Head { get; init; }

    public int Classes => Result.Classes;

    public static TrainedRun Load(string path)
    {
        var run = new RunDirectory(path);
        if (!run.Exists) throw new MaskLabInputException($"run directory '{path}' does not exist");
        var config = run.ReadConfig();
        var result = run.ReadSummary()?.Training
            ?? throw new MaskLabInputException($"run '{path}' has no summary.json: it has not finished an epoch (resume it with train --resume)");
        var checkpoint = File.Exists(run.BestCheckpoint) ? run.BestCheckpoint : run.LastCheckpoint;
        var size = config.ImageSize;
        var head = OutputHeads.Create(config.HeadSection, result.Classes, result.TaskClasses);
        var model = ModelRegistry.Create(config.Model, new ModelSpec(head.Outputs, size.Width, size.Height));
        Checkpoint.Load(checkpoint, model);
        model.eval();
        return new TrainedRun { Directory = run, Config = config, Result = result, Model = model, Head = head };
    }

    /// <summary>
    /// The cache in <paramref name="caches"/> that reads photos as this run was trained to (its input size and face
    /// crop), with the faces of <paramref name="photos"/> found first where the run crops them.
    /// </summary>
    public ImageCache CacheIn(ImageCaches caches, IReadOnlyList<string> photos, CancellationToken ct = default, IProgress<int>? detected = null) =>
        caches.For(Config.ImageSize, Config.FaceCropSection, photos, detected, ct);

    /// <summary>Class probabilities for the given photos, in order; flip TTA averages the mirrored view.</summary>
    public float[,] Probabilities(IReadOnlyList<Sample> samples, ImageCache cache, bool tta, Action<int>? onBatch = null, CancellationToken ct = default)
    {
        var loader = Inference.Loader(samples, Enumerable.Range(0, samples.Count).ToArray(), cache, Config.ImageSize, Config.Seed, Config.Input);
        return Inference.Run(Model, Head, loader, samples.Count, Classes, flipTta: tta, onBatch: onBatch, ct: ct).Probabilities;
    }

    public void Dispose() => Model.Dispose();
}
