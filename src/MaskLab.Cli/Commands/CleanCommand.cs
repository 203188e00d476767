using System.ComponentModel;
using MaskLab.Experiments;
using MaskLab.Runs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

/// <summary><c>masklab clean --out DIR</c>: a k-fold audit of the labels, its fixes, and the final run trained on them.</summary>
public sealed class CleanCommand : Command<CleanCommand.Settings>
{
    public sealed class Settings : JsonSettings
    {
        [CommandOption("-c|--config <FILE>"), Description("YAML experiment file for the k-fold and the final run alike (default configs/main.yaml)")]
        public string? Config { get; init; }

        [CommandOption("-d|--data <DIR>"), Description("Competition folder (train/ and eval/) or train/ itself. Default: the embedded synthetic set")]
        public string? Data { get; init; }

        [CommandOption("-o|--out <DIR>"), Description("Cleaning folder: kfold/ (the audit's k-fold run), label_fixes.csv, final/ (the run trained with them). Run again on the same folder to continue")]
        public string? Out { get; init; }

        [CommandOption("-s|--set <KEY=VALUE>"), Description("Override a config key of both runs, repeatable (as train --set)")]
        public string[] Set { get; init; } = [];

        [CommandOption("--folds <K>"), Description("Folds of the auditing k-fold run (default 3)")]
        public int Folds { get; init; } = 3;

        [CommandOption("--threshold <T>"), Description("The audit's threshold: fixes are applied where the out-of-fold probability off the label reaches it (default 0.7)")]
        public double Threshold { get; init; } = LabelCleaning.DefaultThreshold;

        [CommandOption("--review"), Description("Stop once label_fixes.csv is written; review or edit it (masklab serve shows the k-fold run's suspects), then run the same command again to train the final run with it")]
        public bool Review { get; init; }

        [CommandOption("--tta"), Description("Average the flipped view when the final run predicts the eval set")]
        public bool Tta { get; init; }

        public override ValidationResult Validate() =>
            Out is null ? ValidationResult.Error("--out DIR is required (the cleaning folder)")
            : Folds < 2 || Folds > 20 ? ValidationResult.Error($"--folds {Folds} must be 2..20")
            : !(Threshold > 0 && Threshold <= 1) ? ValidationResult.Error($"--threshold {Threshold} must be above 0 and at most 1")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var config = RunConfig.Load(s.Config, s.Set);
        if (s.Data is not null) config.Data = s.Data;
        config.Validate();
        var cleaning = new LabelCleaning(config, s.Out!, new CleaningOptions(s.Folds, s.Threshold, s.Review), TrainingView.Observer);
        AnsiConsole.MarkupLine($"[bold]masklab clean[/] {s.Folds}-fold audit at {s.Threshold}, then {Cli.Esc(config.Model)} on the fixed labels → {Cli.Esc(Path.GetFullPath(s.Out!))}");
        return CtrlC.Run(cancellation, token =>
        {
            var outcome = TrainingView.Run(() => cleaning.Run(token, new RunEnd(Tta: s.Tta, PredictProgress: TrainingView.PredictProgress)));
            AnsiConsole.MarkupLine($"label fixes: [bold]{Cli.Esc(outcome.FixesFile)}[/] ({outcome.Fixes} fix(es)" +
                                   (outcome.KeptFromConfig > 0 ? $", {outcome.KeptFromConfig} of them the config's own" : "") + ")");
            if (outcome.Final is not { } final)
            {
                AnsiConsole.MarkupLine($"stopped for review: edit or review that file (masklab serve, label review of {Cli.Esc(cleaning.KFold.Path)}), then run the same command without --review to train {Cli.Esc(cleaning.Final.Path)}");
                return 0;
            }
            TrainingView.ShowOutcome(final, cleaning.Final);
            if (s.Json) Cli.WriteJsonLine(final.Summary.ToJsonObject());
            return 0;
        }, () => $"interrupted; finished stages are kept: run the same command again to continue in {s.Out}");
    }
}
