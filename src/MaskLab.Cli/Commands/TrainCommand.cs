using System.ComponentModel;
using MaskLab.Evaluation;
using MaskLab.Experiments;
using MaskLab.Runs;
using MaskLab.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

public sealed class TrainCommand : Command<TrainCommand.Settings>
{
    public sealed class Settings : ExecutorSettings
    {
        [CommandOption("-c|--config <FILE>"), Description("YAML experiment file (configs/baseline.yaml, ...). Defaults (configs/main.yaml): resnet18_mlnet from its ImageNet weights, face crops, an ordinal age output, 144x180, epochs auto (5 on the default set)")]
        public string? Config { get; init; }

        [CommandOption("-d|--data <DIR>"), Description("Competition folder (train/ and eval/), train/ itself, or an image folder. Default: the embedded synthetic set, generated once")]
        public string? Data { get; init; }

        [CommandOption("-o|--out <RUNDIR>"), Description("Run directory to write. Default: runs/<model>-<time>")]
        public string? Out { get; init; }

        [CommandOption("-s|--set <KEY=VALUE>"), Description("Override a config key, repeatable: model, loss, epochs, batch_size, lr, optimizer, seed, image_size, precision, folds, age_cuts, ...")]
        public string[] Set { get; init; } = [];

        [CommandOption("--resume <RUNDIR>"), Description("Continue an interrupted run from its last checkpoint (config, optimiser, schedule and RNG state)")]
        public string? Resume { get; init; }

        [CommandOption("--skip-bad"), Description("Train without unreadable photos instead of failing")]
        public bool SkipBad { get; init; }

        [CommandOption("--tta"), Description("Average the flipped view when predicting the eval set")]
        public bool Tta { get; init; }

        // The one --json outside JsonSettings: a verb's settings have one base class, and train's is ExecutorSettings.
        [CommandOption("--json"), Description("Print summary.json as one JSON line at the end")]
        public bool Json { get; init; }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        if (!s.OnSlurm && s.SlurmOnlyOptionGiven() is { } slurmOnly) return Cli.Fail($"{slurmOnly} is for --executor slurm");
        RunConfig config;
        RunDirectory run;
        if (s.Resume is not null)
        {
            if (s.Config is not null || s.Set.Length > 0 || s.Data is not null)
                return Cli.Fail("--resume continues a run with its own config; do not combine it with --config, --data or --set");
            run = new RunDirectory(s.Resume);
            config = run.ReadConfig();
        }
        else
        {
            config = RunConfig.Load(s.Config, s.Set);
            if (s.Data is not null) config.Data = s.Data;
            if (s.SkipBad) config.SkipBad = true;
            config.Validate();
            run = new RunDirectory(s.Out ?? Path.Combine("runs", $"{config.Model}-{DateTime.Now:yyyyMMdd-HHmmss}"));
            if (RunLock.HolderOf(run.Path) is { } holder) throw new RunLockedException(run.Path, holder);
            if (File.Exists(run.LastCheckpoint) || (config.Folds <= 1 && run.IsKFoldRoot))
                return Cli.Fail($"'{run.Path}' already holds a run; choose another --out or continue it with --resume {run.Path}");
        }
        if (s.OnSlurm) return Submit(s, config, run);

        return CtrlC.Run(cancellation, token =>
        {
            if (config.Split == SplitKind.Image)
                AnsiConsole.MarkupLine("[yellow]warning:[/] split: image puts photos of the same person in train and validation; its validation score is inflated. Use it only for the split study, never to pick models.");
            AnsiConsole.MarkupLine($"[bold]masklab train[/] {Cli.Esc(config.Model)} · loss {Cli.Esc(config.Loss.ToString())} · {config.ImageSize} · {config.Epochs?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "auto"} epochs · batch {config.BatchSize} · {ConfigValues.EnumText(config.Optimizer)} lr {config.Lr} · {ConfigValues.EnumText(config.Precision)} → {Cli.Esc(run.Path)}");
            var end = new RunEnd(Tta: s.Tta, PredictProgress: TrainingView.PredictProgress);
            RunOutcome outcome;
            if (config.Folds > 1)
            {
                if (TrainingView.Run(() => new CrossValidation(config, run, TrainingView.Observer).Run(token, end)) is not { } cv)
                {
                    AnsiConsole.MarkupLine($"fold {config.Fold} trained into [bold]{Cli.Esc(run.Fold(config.Fold).Path)}[/]; out-of-fold scores follow once every fold has run (same --out, fold=-1 trains the rest)");
                    return 0;
                }
                outcome = cv;
            }
            else
            {
                outcome = TrainingView.Run(() => new RunJob(config, run, TrainingView.Observer).Run(token, end: end));
            }
            TrainingView.ShowOutcome(outcome, run);
            if (s.Json) Cli.WriteJsonLine(outcome.Summary.ToJsonObject());
            return 0;
        }, () => Interrupted(run));
    }

    /// <summary>
    /// The line a stopped training ends with: how to continue where the run folder holds a run (its config.yaml), and
    /// that there is nothing to resume where the signal came before it was written.
    /// </summary>
    public static string Interrupted(RunDirectory run) => run.HasConfig
        ? $"interrupted; the last finished epoch is kept: continue with ./masklab train --resume {run.Path}"
        : $"interrupted before the run folder {run.Path} was written: nothing to resume; run the same command again to start it";

    /// <summary>A k-fold run's folds as a Slurm job array, one task per fold, then the out-of-fold gather.</summary>
    static int Submit(Settings s, RunConfig config, RunDirectory run)
    {
        if (config.Folds < 2) return Cli.Fail("--executor slurm trains a k-fold run's folds as tasks: set folds (2 or more); a sweep's runs go with masklab sweep --executor slurm");
        var options = s.SlurmOptions();
        var batch = SlurmExecutor.PrepareFolds(config, run, options);
        // The array index goes last: each task's script appends it.
        string[] task = [.. SlurmView.Self(), "train", "fold", "--out", run.Path, "--fold-index"];
        string[] gather = [.. SlurmView.Self(), "train", "gather", "--out", run.Path, .. (s.Tta ? new[] { "--tta" } : [])];
        AnsiConsole.MarkupLine($"[bold]masklab train[/] {config.Folds} folds of {Cli.Esc(config.Model)} on Slurm → {Cli.Esc(run.Path)}");
        var submission = SlurmExecutor.Submit(batch, options, task, gather, Environment.CurrentDirectory);
        SlurmView.ShowSubmission(batch, submission, $"masklab sweep status {run.Path}");
        return 0;
    }
}
