using System.ComponentModel;
using MaskLab.Evaluation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

/// <summary><c>masklab score --pred FILE --truth FILE [--json]</c>: scores a submission against the eval truth.</summary>
public sealed class ScoreCommand : Command<ScoreCommand.Settings>
{
    public sealed class Settings : JsonSettings
    {
        [CommandOption("--pred <FILE>")]
        [Description("Submission to score: CSV with columns ImageID,ans")]
        public string? Pred { get; set; }

        [CommandOption("--truth <FILE>")]
        [Description("Eval truth with the same columns, e.g. DIR/eval/answers.csv")]
        public string? Truth { get; set; }

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Pred) ? ValidationResult.Error("score needs --pred FILE")
            : string.IsNullOrWhiteSpace(Truth) ? ValidationResult.Error("score needs --truth FILE")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var report = Scoring.Score(settings.Pred!, settings.Truth!);
        EvaluationView.Write(report);
        if (settings.Json) Cli.WriteJsonLine(report.ToJsonObject());
        return 0;
    }
}
