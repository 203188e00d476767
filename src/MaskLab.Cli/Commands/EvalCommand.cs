using System.ComponentModel;
using MaskLab.Data;
using MaskLab.Evaluation;
using MaskLab.Platform;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

public sealed class EvalCommand : Command<EvalCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("-r|--run <RUNDIR>"), Description("Trained run directory")]
        public string? Run { get; init; }

        [CommandOption("-d|--data <DIR>"), Description("Labelled data: competition train/ layout (or a folder holding it), or an image folder")]
        public string? Data { get; init; }

        [CommandOption("--tta"), Description("Average the horizontally flipped view")]
        public bool Tta { get; init; }

        [CommandOption("--device <DEVICE>"), Description("auto (a GPU when a CUDA libtorch sees one, else the CPU), cpu, cuda or cuda:N"), DefaultValue("auto")]
        public string Device { get; init; } = "auto";

        [CommandOption("--json"), Description("Print the scores as one JSON line at the end")]
        public bool Json { get; init; }

        [CommandOption("--checkpoint <best|last>"), Description("Weights to score: best (the best validation epoch's, default) or last")]
        public string Checkpoint { get; init; } = "best";

        public override ValidationResult Validate() =>
            Run is null ? ValidationResult.Error("--run is required")
            : Data is null ? ValidationResult.Error("--data is required")
            : CheckpointOption.Validate(Checkpoint);
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var device = DeviceResolution.Resolve(DeviceChoice.Parse(s.Device));
        using var run = TrainedRun.Load(s.Run!, CheckpointOption.Parse(s.Checkpoint), device.Device);
        AnsiConsole.MarkupLine($"[grey]weights: {Cli.Esc(run.CheckpointDescription)} on {Cli.Esc(device.Info.Device)}[/]");
        var set = DataLocator.ReadLabeled(s.Data!);
        if (set.ClassCount != run.Classes)
            return Cli.Fail($"'{s.Data}' has {set.ClassCount} classes but run '{s.Run}' was trained on {run.Classes}");
        var paths = set.Samples.Select(x => x.Path).ToArray();
        ImageCache cache = null!;
        var probs = TrainingView.Run(() =>
        {
            // The photos are read as the run was trained to: its input size and, where it crops faces, the same crop.
            cache = run.CacheIn(new ImageCaches(), paths, cancellation,
                new SyncProgress<int>(d => TrainingView.Observer.Progress("finding faces", d, paths.Length)));
            cache.PreloadAll(paths,
                new SyncProgress<int>(d => TrainingView.Observer.Progress("decoding photos", d, set.Samples.Count)), cancellation);
            int batches = (set.Samples.Count + Inference.BatchSize - 1) / Inference.BatchSize;
            return run.Probabilities(set.Samples, cache, s.Tta, b => TrainingView.Observer.Progress("predicting", b, batches), cancellation);
        });
        var report = Metrics.Evaluate(set.Samples.Select(x => x.Label).ToArray(), Metrics.Argmax(probs), set.ClassNames, set.IsTaskClasses);
        AnsiConsole.MarkupLine($"[bold]{Cli.Esc(run.Config.Model)}[/] from {Cli.Esc(run.Directory.Path)} on {Cli.Esc(s.Data!)} ({set.Samples.Count} photos{(s.Tta ? ", flip TTA" : "")})");
        if (cache.Crop is FaceCropper crop)
            AnsiConsole.MarkupLine($"face crop: {crop.Counts.Faces} photo(s) cut around a face, {crop.Counts.Fallbacks} centred fallback(s) where no face was found");
        EvaluationView.Write(report);
        if (s.Json) Cli.WriteJsonLine(report.ToJsonObject());
        return 0;
    }
}
