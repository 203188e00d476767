using MaskLab.Data;
using MaskLab.Models;
using MaskLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Evaluation;

/// <summary>A finished run loaded for inference: its config, summary and best weights.</summary>
public sealed class TrainedRun : IDisposable
{
    public required RunDirectory Directory { get; init; }
    public required TrainConfig Config { get; init; }
    public required TrainSummary Summary { get; init; }
    public required nn.Module<Tensor, Tensor> Model { get; init; }
    public required IOutputHead Head { get; init; }

    public static TrainedRun Load(string path)
    {
        var run = new RunDirectory(path);
        if (!System.IO.Directory.Exists(run.Path)) throw new MaskLabInputException($"run directory '{path}' does not exist");
        var config = run.ReadConfig();
        var summary = run.ReadSummary()
            ?? throw new MaskLabInputException($"run '{path}' has no summary.json: it has not finished an epoch (resume it with train --resume)");
        var checkpoint = File.Exists(run.BestCheckpoint) ? run.BestCheckpoint : run.LastCheckpoint;
        var size = config.Size;
        var head = OutputHeads.Create(config, summary.Classes, summary.TaskClasses);
        var model = ModelRegistry.Create(config.Model, new ModelSpec(head.Outputs, size.Width, size.Height));
        Checkpoint.Load(checkpoint, model);
        model.eval();
        return new TrainedRun { Directory = run, Config = config, Summary = summary, Model = model, Head = head };
    }

    /// <summary>Class probabilities for the given photos, in order; flip TTA averages the mirrored view.</summary>
    public float[,] Probabilities(IReadOnlyList<Sample> samples, ImageCache cache, bool tta, Action<int>? onBatch = null, CancellationToken ct = default)
    {
        var loader = Trainer.EvalLoader(samples, Enumerable.Range(0, samples.Count).ToArray(), cache, Config);
        return Inference.Run(Model, Head, loader, samples.Count, Summary.Classes, flipTta: tta, onBatch: onBatch, ct: ct).Probabilities;
    }

    public void Dispose() => Model.Dispose();
}
