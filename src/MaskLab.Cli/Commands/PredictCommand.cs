using System.ComponentModel;
using System.Globalization;
using MaskLab.Data;
using MaskLab.Evaluation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

public sealed class PredictCommand : Command<PredictCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("-r|--run <RUNDIR>"), Description("Trained run directory, or a k-fold run (expanded to its folds); repeat to soft-vote an ensemble")]
        public string[] Runs { get; init; } = [];

        [CommandOption("-d|--data <DIR>"), Description("Competition folder holding eval/, or eval/ itself (info.csv + images/)")]
        public string? Data { get; init; }

        [CommandOption("-o|--out <FILE>"), Description("Submission to write: ImageID,ans in info.csv order")]
        public string? Out { get; init; }

        [CommandOption("--tta"), Description("Average the horizontally flipped view")]
        public bool Tta { get; init; }

        [CommandOption("--weights <W1,W2,...>"), Description("Per-run weights for the soft vote (default equal)")]
        public string? Weights { get; init; }

        [CommandOption("--json"), Description("Print the score (when eval/answers.csv exists) as one JSON line at the end")]
        public bool Json { get; init; }

        public override ValidationResult Validate() =>
            Runs.Length == 0 ? ValidationResult.Error("--run is required (repeat it to ensemble)")
            : Data is null ? ValidationResult.Error("--data is required")
            : Out is null ? ValidationResult.Error("--out is required")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var evalDir = DataLocator.Locate(s.Data!).EvalDir
            ?? throw new MaskLabInputException($"'{s.Data}' has no eval/ folder with info.csv");
        double[]? weights = s.Weights?.Split(',').Select(w => double.TryParse(w, CultureInfo.InvariantCulture, out var v) && v >= 0
            ? v : throw new MaskLabInputException($"--weights '{s.Weights}' is not a list of non-negative numbers")).ToArray();
        var runs = new List<TrainedRun>();
        try
        {
            foreach (var r in MaskLab.Training.CrossValidation.ExpandRuns(s.Runs)) runs.Add(TrainedRun.Load(r));
            var dir = Path.GetDirectoryName(Path.GetFullPath(s.Out!));
            if (dir is not null) Directory.CreateDirectory(dir);
            var result = TrainingView.Predict(runs, evalDir, s.Out!, s.Tta, cancellation, weights);
            AnsiConsole.MarkupLine($"wrote [bold]{Cli.Esc(s.Out!)}[/]: {result.Answers.Length} rows from {runs.Count} run(s){(s.Tta ? " with flip TTA" : "")}");
            if (result.Score is { } score)
            {
                AnsiConsole.MarkupLine("[bold]scored against answers.csv[/]");
                EvaluationView.Write(score);
                if (s.Json) Cli.WriteJsonLine(score.ToJsonObject());
            }
            else if (s.Json) Cli.WriteJsonLine(new { rows = result.Answers.Length });
            return 0;
        }
        finally
        {
            foreach (var r in runs) r.Dispose();
        }
    }
}
