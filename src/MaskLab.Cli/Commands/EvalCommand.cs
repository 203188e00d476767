using System.ComponentModel;
using MaskLab.Data.Faces;
using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Evaluation;
using MaskLab.Platform;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

public sealed class EvalCommand : Command<EvalCommand.Settings>
{
    public sealed class Settings : TrainedRunSettings
    {
        [CommandOption("-d|--data <DIR>"), Description("Labelled data: competition train/ layout (or a folder holding it), or an image folder")]
        public string? Data { get; init; }

        [CommandOption("--tta"), Description("Average the horizontally flipped view")]
        public bool Tta { get; init; }

        protected override ValidationResult ValidateOptions() =>
            Run is null ? ValidationResult.Error("--run is required")
            : Data is null ? ValidationResult.Error("--data is required")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var device = DeviceResolution.Resolve(s.Device);
        // A k-fold run is scored as predict uses it: its folds soft-voted with equal weights.
        using var ensemble = TrainedEnsemble.Load([s.Run!], s.Checkpoint, device.Device);
        bool folds = ensemble.Runs.Count > 1 || ensemble.Runs[0].Directory.Path != Path.GetFullPath(s.Run!);
        foreach (var r in ensemble.Runs)
            AnsiConsole.MarkupLine($"[grey]weights: {Cli.Esc(folds ? r.Directory.Path + ": " : "")}{Cli.Esc(r.CheckpointDescription)} on {Cli.Esc(device.Info.Device)}[/]");
        return Evaluate(s, ensemble.Runs, cancellation);
    }

    static int Evaluate(Settings s, IReadOnlyList<TrainedRun> runs, CancellationToken cancellation)
    {
        var run = runs[0];
        var set = DataLocator.ReadLabeled(s.Data!);
        if (set.ClassCount != run.Classes)
            return Cli.Fail($"'{s.Data}' has {set.ClassCount} classes but run '{s.Run}' was trained on {run.Classes}");
        var paths = set.Samples.Select(x => x.Path).ToArray();
        ImageCache cache = null!;
        var caches = new ImageCaches();
        var probs = TrainingView.Run(() =>
        {
            var each = new List<float[,]>(runs.Count);
            foreach (var member in runs)
            {
                // The photos are read as the run was trained to: its input size and, where it crops faces, the same crop.
                cache = member.CacheIn(caches, paths, cancellation,
                    new SyncProgress<int>(d => TrainingView.Observer.Progress("finding faces", d, paths.Length)));
                cache.PreloadAll(paths,
                    new SyncProgress<int>(d => TrainingView.Observer.Progress("decoding photos", d, set.Samples.Count)), cancellation);
                int batches = (set.Samples.Count + Inference.BatchSize - 1) / Inference.BatchSize;
                each.Add(member.Probabilities(set.Samples, cache, s.Tta, b => TrainingView.Observer.Progress("predicting", b, batches), cancellation));
            }
            return Ensemble.Combine(each, weights: null, Vote.Soft);
        });
        var report = Metrics.Evaluate(set.Samples.Select(x => x.Label).ToArray(), Metrics.Argmax(probs), set.ClassNames, set.IsTaskClasses);
        AnsiConsole.MarkupLine($"[bold]{Cli.Esc(run.Config.Model)}[/] from {Cli.Esc(runs.Count > 1 ? $"{Path.GetFullPath(s.Run!)} ({runs.Count} folds, soft-voted)" : run.Directory.Path)} on {Cli.Esc(s.Data!)} ({set.Samples.Count} photos{(s.Tta ? ", flip TTA" : "")})");
        if (cache.Crop is FaceCropper crop)
            AnsiConsole.MarkupLine($"face crop: {crop.Counts.Faces} photo(s) cut around a face, {crop.Counts.Fallbacks} centred fallback(s) where no face was found");
        EvaluationView.Write(report);
        if (s.Json) Cli.WriteJsonLine(report.ToJsonObject());
        return 0;
    }
}
