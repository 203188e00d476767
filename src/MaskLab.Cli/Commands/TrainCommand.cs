using System.ComponentModel;
using MaskLab.Data;
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
        [CommandOption("-c|--config <FILE>"), Description("YAML experiment file (configs/baseline.yaml, ...). Defaults (configs/main.yaml): resnet18_mlnet from its ImageNet weights, 96x128, 6 epochs")]
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

        [CommandOption("--json"), Description("Print summary.json as one JSON line at the end")]
        public bool Json { get; init; }

        [CommandOption("--fold-index <K>"), Description("Train fold K of the k-fold run in --out (its config.yaml) and nothing else: what each Slurm array task runs")]
        public int? FoldIndex { get; init; }

        [CommandOption("--gather"), Description("Gather the finished folds of the k-fold run in --out into oof.csv and summary.json: what the Slurm gathering job runs")]
        public bool Gather { get; init; }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        if (!s.OnSlurm && s.SlurmOnlyOptionGiven() is { } slurmOnly) return Cli.Fail($"{slurmOnly} is for --executor slurm");
        if (s.FoldIndex is not null || s.Gather)
        {
            if (s.Out is null) return Cli.Fail($"{(s.Gather ? "--gather" : "--fold-index")} needs --out RUNDIR, a k-fold run holding config.yaml");
            if (s.Config is not null || s.Set.Length > 0 || s.Data is not null || s.Resume is not null || s.OnSlurm || (s.FoldIndex is not null && s.Gather))
                return Cli.Fail("--fold-index and --gather read the k-fold run's own config.yaml; give neither --config, --set, --data, --resume, --executor slurm nor both");
            return FoldTask(s, cancellation);
        }
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
                return Cli.Fail($"'{run.Path}' already holds a run; choose another --out or continue it with --resume {s.Out}");
        }
        if (s.OnSlurm) return Submit(s, config, run);

        using var ctrlC = new CtrlC(cancellation);
        try
        {
            if (config.Split == SplitKind.Image)
                AnsiConsole.MarkupLine("[yellow]warning:[/] split: image puts photos of the same person in train and validation; its validation score is inflated. Use it only for the split study, never to pick models.");
            AnsiConsole.MarkupLine($"[bold]masklab train[/] {Cli.Esc(config.Model)} · loss {Cli.Esc(config.Loss)} · {config.ImageSize} · {config.Epochs} epochs · batch {config.BatchSize} · {ConfigValues.EnumText(config.Optimizer)} lr {config.Lr} · {ConfigValues.EnumText(config.Precision)} → {Cli.Esc(run.Path)}");
            var end = new RunEnd(Tta: s.Tta, PredictProgress: TrainingView.PredictProgress);
            RunOutcome outcome;
            if (config.Folds > 1)
            {
                if (TrainingView.Run(() => new CrossValidation(config, run, TrainingView.Observer).Run(ctrlC.Token, end)) is not { } cv)
                {
                    AnsiConsole.MarkupLine($"fold {config.Fold} trained into [bold]{Cli.Esc(run.Fold(config.Fold).Path)}[/]; out-of-fold scores follow once every fold has run (same --out, fold=-1 trains the rest)");
                    return 0;
                }
                outcome = cv;
            }
            else
            {
                outcome = TrainingView.Run(() => new RunJob(config, run, TrainingView.Observer).Run(ctrlC.Token, end: end));
            }
            TrainingView.ShowOutcome(outcome, run);
            if (s.Json) Cli.WriteJsonLine(outcome.Summary.ToJsonObject());
            return 0;
        }
        catch (OperationCanceledException)
        {
            return Cli.Fail($"interrupted; the last finished epoch is kept: continue with ./masklab train --resume {run.Path}", ctrlC.ExitCode);
        }
        catch (TrainingStoppedException e)
        {
            return Cli.Fail(e.Message, 1);
        }
        catch (BadImagesException e)
        {
            return Cli.Fail(e);
        }
    }

    /// <summary>A k-fold run's folds as a Slurm job array, one task per fold, then the out-of-fold gather.</summary>
    static int Submit(Settings s, RunConfig config, RunDirectory run)
    {
        if (config.Folds < 2) return Cli.Fail("--executor slurm trains a k-fold run's folds as tasks: set folds (2 or more); a sweep's runs go with masklab sweep --executor slurm");
        var options = s.SlurmOptions();
        var batch = SlurmExecutor.PrepareFolds(config, run, options);
        string[] task = [.. SlurmView.Self(), "train", "--out", run.Path, "--fold-index"];
        string[] gather = [.. SlurmView.Self(), "train", "--out", run.Path, "--gather", .. (s.Tta ? new[] { "--tta" } : [])];
        AnsiConsole.MarkupLine($"[bold]masklab train[/] {config.Folds} folds of {Cli.Esc(config.Model)} on Slurm → {Cli.Esc(run.Path)}");
        var submission = SlurmExecutor.Submit(batch, options, task, gather, Environment.CurrentDirectory);
        SlurmView.ShowSubmission(batch, submission, $"masklab sweep --status {run.Path}");
        return 0;
    }

    /// <summary>One fold (a Slurm array task) or the out-of-fold gather (the gathering job) of the k-fold run in --out.</summary>
    static int FoldTask(Settings s, CancellationToken cancellation)
    {
        var run = new RunDirectory(s.Out!);
        var config = run.ReadConfig();
        if (config.Folds < 2) return Cli.Fail($"'{run.Path}' is not a k-fold run (folds {config.Folds})");
        var cv = new CrossValidation(config, run, TrainingView.Observer);
        // A Slurm task's time limit sends SIGTERM: the fold stops at its next safe point and the next submission resumes it.
        using var ctrlC = new CtrlC(cancellation);
        try
        {
            if (s.FoldIndex is { } k)
            {
                TrainingView.Run(() => { cv.RunFold(k, ctrlC.Token); return 0; });
                AnsiConsole.MarkupLine($"fold {k} trained into [bold]{Cli.Esc(run.Fold(k).Path)}[/]");
                return 0;
            }
            var missing = cv.MissingFolds();
            if (missing.Count > 0)
            {
                var status = SlurmStatus.Of(SlurmBatch.ForFolds(run, config));
                return Cli.Fail($"out-of-fold scores need every fold; not finished: {string.Join("; ", missing.Select(m => $"fold-{m}: {(status.Runs[m].Phase == SlurmRunPhase.Failed ? "failed: " : "")}{status.Runs[m].Detail}"))}", 1);
            }
            var outcome = TrainingView.Run(() => cv.GatherFolds(ctrlC.Token, new RunEnd(Tta: s.Tta, PredictProgress: TrainingView.PredictProgress)));
            TrainingView.ShowOutcome(outcome, run);
            return 0;
        }
        catch (OperationCanceledException)
        {
            return Cli.Fail("interrupted; the last finished epoch is kept and the next submission resumes it", ctrlC.ExitCode);
        }
        catch (TrainingStoppedException e)
        {
            return Cli.Fail(e.Message, 1);
        }
        catch (BadImagesException e)
        {
            return Cli.Fail(e);
        }
    }
}
