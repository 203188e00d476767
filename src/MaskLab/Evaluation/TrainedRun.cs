using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Models;
using MaskLab.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Evaluation;

/// <summary>A finished run loaded for inference: its config, training result and chosen weights.</summary>
public sealed class TrainedRun : IDisposable
{
    public required RunDirectory Directory { get; init; }
    public required RunConfig Config { get; init; }
    public required TrainingResult Result { get; init; }
    public required nn.Module<Tensor, Tensor> Model { get; init; }
    public required IOutputHead Head { get; init; }
    /// <summary>Which checkpoint the weights came from: the one asked for, else the run's eval_checkpoint.</summary>
    public required CheckpointChoice Checkpoint { get; init; }
    /// <summary>The checkpoint file the weights came from.</summary>
    public required string CheckpointFile { get; init; }
    /// <summary>The epoch after which that checkpoint was written.</summary>
    public required int CheckpointEpoch { get; init; }

    public int Classes => Result.Classes;

    /// <summary>"best.ckpt (epoch 3)": which weights are used, for the line a command prints.</summary>
    public string CheckpointDescription => $"{Path.GetFileName(CheckpointFile)} (epoch {CheckpointEpoch})";

    /// <summary>
    /// Loads the run with the checkpoint asked for (null: the run's own <see cref="RunConfig.EvalCheckpoint"/>, the
    /// weights its eval prediction used) onto <paramref name="device"/> (the CPU when null; checkpoints are
    /// device-neutral). A missing checkpoint is refused, never replaced by the other: the best and the last epoch's
    /// weights are different models. A run that ended before any better epoch has both.
    /// </summary>
    public static TrainedRun Load(string path, CheckpointChoice? chosen = null, Device? device = null)
    {
        var run = new RunDirectory(path);
        if (!run.Exists) throw new MaskLabInputException($"run directory '{path}' does not exist");
        var config = run.ReadConfig();
        TrainingResult? result;
        try { result = run.ReadSummary()?.Training; }
        catch (System.Text.Json.JsonException e) { throw new MaskLabInputException(e.Message); }
        result = result
            ?? throw new MaskLabInputException($"run '{path}' has no summary.json: it has not finished an epoch (resume it with train --resume)");
        // face_crop auto was decided by the photos the run trained on: any other photos are read the same way.
        if (config.FaceCrop == Data.Faces.FaceCropMode.Auto)
            config.FaceCrop = result.FaceCrop switch
            {
                "detect" => Data.Faces.FaceCropMode.Detect,
                "none" => Data.Faces.FaceCropMode.None,
                _ => throw new MaskLabInputException($"run '{path}' has face_crop auto but its summary.json does not say what it resolved to (face_crop)"),
            };
        var choice = chosen ?? config.EvalCheckpoint;
        var checkpoint = choice == CheckpointChoice.Best ? run.BestCheckpoint : run.LastCheckpoint;
        if (!File.Exists(checkpoint))
            throw new MaskLabInputException(choice == CheckpointChoice.Best && File.Exists(run.LastCheckpoint)
                ? $"run '{path}' has no best.ckpt (checkpoints/best.ckpt); pass --checkpoint last to use the last epoch's weights (last.ckpt) instead"
                : $"run '{path}' has no {Path.GetFileName(checkpoint)} (checkpoints/{Path.GetFileName(checkpoint)})");
        var (model, head) = RunModel.Create(config, result.Classes, result.TaskClasses);
        TrainingState state;
        try { state = Runs.Checkpoint.Load(checkpoint, model); }
        catch
        {
            model.Dispose();
            throw;
        }
        if (device is not null) model.to(device);
        model.eval();
        return new TrainedRun
        {
            Directory = run, Config = config, Result = result, Model = model, Head = head,
            Checkpoint = choice, CheckpointFile = checkpoint, CheckpointEpoch = state.EpochsDone,
        };
    }

    /// <summary>
    /// The cache in <paramref name="caches"/> that reads photos as this run was trained to (its input size and face
    /// crop), with the faces of <paramref name="photos"/> found first where the run crops them.
    /// </summary>
    public ImageCache CacheIn(ImageCaches caches, IReadOnlyList<string> photos, CancellationToken ct = default, IProgress<int>? detected = null) =>
        caches.For(Config.ImageSize, Config.FaceCropSection, photos, detected, ct);

    /// <summary>Class probabilities for the given photos, in order; flip TTA averages the mirrored view.</summary>
    public float[,] Probabilities(IReadOnlyList<Sample> samples, ImageCache cache, bool tta, Action<int>? onBatch = null, CancellationToken ct = default) =>
        Predict(samples, cache, tta, onBatch, ct).Probabilities;

    /// <summary>
    /// <see cref="Probabilities"/>, and each photo's predicted age in years where the run has an age output in years
    /// (the ordinal age head; null elsewhere).
    /// </summary>
    public (float[,] Probabilities, float[]? Ages) Predict(IReadOnlyList<Sample> samples, ImageCache cache, bool tta, Action<int>? onBatch = null, CancellationToken ct = default)
    {
        var loader = Inference.Loader(samples, Enumerable.Range(0, samples.Count).ToArray(), cache, Config.ImageSize, Config.Seed, Config.Input);
        var (probabilities, _, ages) = Inference.Run(Model, Head, loader, samples.Count, Classes, flipTta: tta, onBatch: onBatch, ct: ct);
        return (probabilities, ages);
    }

    public void Dispose() => Model.Dispose();
}
