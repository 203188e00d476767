using System.ComponentModel;
using System.Globalization;
using MaskLab.Data.Layout;
using MaskLab.Evaluation;
using MaskLab.Experiments;
using MaskLab.Platform;
using MaskLab.Runs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

public sealed class PredictCommand : Command<PredictCommand.Settings>
{
    public sealed class Settings : TrainedRunSettings
    {
        protected override bool TakesSeveralRuns => true;

        [CommandOption("-d|--data <DIR>"), Description("Competition folder holding eval/, or eval/ itself (info.csv + images/)")]
        public string? Data { get; init; }

        [CommandOption("-o|--out <FILE>"), Description("Submission to write: ImageID,ans in info.csv order")]
        public string? Out { get; init; }

        [CommandOption("--tta"), Description("Average the horizontally flipped view")]
        public bool Tta { get; init; }

        [CommandOption("--weights <W1,W2,...>"), Description("Per-run weights for the soft vote (default equal)")]
        public string? Weights { get; init; }

        [CommandOption("--vote <soft|hard>"), Description("soft: weighted mean of probabilities (default); hard: weighted majority of each run's top class")]
        [TypeConverter(typeof(VoteOption)), DefaultValue("soft")]
        public Vote Vote { get; init; } = Vote.Soft;

        [CommandOption("--probs <FILE>"), Description("Also write the (ensembled) class probabilities: ImageID,p0..p17, the file pseudo_labels reads")]
        public string? Probs { get; init; }

        protected override ValidationResult ValidateOptions() =>
            Runs.Length == 0 ? ValidationResult.Error("--run is required (repeat it to ensemble)")
            : Data is null ? ValidationResult.Error("--data is required")
            : Out is null ? ValidationResult.Error("--out is required")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var location = DataLocator.Locate(s.Data!);
        var evalDir = location.EvalDir
            ?? throw new MaskLabInputException($"'{s.Data}' has no eval/ folder with info.csv");
        // Each file written must be its own: the probabilities must not replace the submission, nor either replace an
        // input, a file of a run or a file of a data set.
        var outFile = RealPath.Of(s.Out!);
        if (s.Probs is { } probs && RealPath.Of(probs) == outFile)
            throw new MaskLabInputException($"--probs and --out name the same file '{outFile}': the probabilities would replace the submission; give two files");
        string[] inputs = [Path.Combine(evalDir, "info.csv"), Path.Combine(evalDir, "answers.csv")];
        string?[] data = [s.Data, location.TrainDir, evalDir];
        OutputFile.Check("--out", s.Out!, inputs, data);
        if (s.Probs is { } probsFile0) OutputFile.Check("--probs", probsFile0, inputs, data);
        double[]? weights = s.Weights?.Split(',').Select(w => double.TryParse(w, CultureInfo.InvariantCulture, out var v) && v >= 0
            ? v : throw new MaskLabInputException($"--weights '{s.Weights}' is not a list of non-negative numbers")).ToArray();
        if (weights is not null && weights.Length != s.Runs.Length)
            throw new MaskLabInputException($"--weights has {weights.Length} values for {s.Runs.Length} --run");
        var device = DeviceResolution.Resolve(s.Device).Device;
        // A k-fold run counts as one member: the ensemble shares its weight out among its folds.
        using var ensemble = TrainedEnsemble.Load(s.Runs, s.Checkpoint, device, weights,
            loaded: r => AnsiConsole.MarkupLine($"[grey]weights: {Cli.Esc(r.Directory.Path)}: {Cli.Esc(r.CheckpointDescription)}[/]"));
        var runs = ensemble.Runs;
        var dir = Path.GetDirectoryName(Path.GetFullPath(s.Out!));
        if (dir is not null) Directory.CreateDirectory(dir);
        var result = TrainingView.Predict(runs, evalDir, s.Out!, s.Tta, cancellation, [.. ensemble.Weights], s.Vote);
        AnsiConsole.MarkupLine($"wrote [bold]{Cli.Esc(s.Out!)}[/]: {result.Answers.Length} rows from {runs.Count} run(s), {ConfigValues.EnumText(s.Vote)} vote{(s.Tta ? " with flip TTA" : "")}");
        if (s.Probs is { } probsFile)
        {
            MaskLab.Runs.EvalProbabilities.Write(probsFile, result.Images.Select(i => i.ImageId).ToArray(), result.Probabilities);
            AnsiConsole.MarkupLine($"wrote [bold]{Cli.Esc(probsFile)}[/]: class probabilities of {result.Answers.Length} photos");
        }
        if (result.FaceCrop is { } crop)
            AnsiConsole.MarkupLine($"face crop: {crop.Faces} photo(s) cut around a face, {crop.Fallbacks} centred fallback(s) where no face was found");
        if (result.Score is { } score)
        {
            AnsiConsole.MarkupLine("[bold]scored against answers.csv[/]");
            EvaluationView.Write(score);
            if (s.Json) Cli.WriteJsonLine(score.ToJsonObject());
        }
        else if (s.Json) Cli.WriteJsonLine(new { rows = result.Answers.Length });
        return 0;
    }
}
