using MaskLab.Evaluation;
using MaskLab.Experiments;
using MaskLab.Runs;
using MaskLab.Training;
using Spectre.Console;

namespace MaskLab.Cli;

/// <summary>Progress bars and tables for training and prediction.</summary>
public static class TrainingView
{
    static ProgressContext? current;

    /// <summary>The observer of the work running inside <see cref="Run{T}"/>.</summary>
    public static ITrainingObserver Observer { get; } = new ProgressObserver();

    public static T Run<T>(Func<T> work)
    {
        return AnsiConsole.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(),
                new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                current = ctx;
                try { return work(); }
                finally { current = null; }
            });
    }

    /// <summary>Reports prediction progress as a "predicting" bar of the work inside <see cref="Run{T}"/>.</summary>
    public static IProgress<(int Done, int Total)> PredictProgress { get; } =
        new SyncProgress<(int Done, int Total)>(p => Observer.Progress("predicting", p.Done, p.Total));

    public static EvalSet.Result Predict(IReadOnlyList<TrainedRun> runs, string evalDir, string outFile, bool tta,
        CancellationToken ct, IReadOnlyList<double>? weights = null, Vote vote = Vote.Soft) =>
        Run(() => EvalSet.Predict(runs, evalDir, outFile, tta, weights, progress: PredictProgress, ct: ct, vote: vote));

    sealed class ProgressObserver : ITrainingObserver
    {
        ProgressTask? task;
        string? taskKey;

        ProgressTask Task(string key, string description, double total)
        {
            if (taskKey != key || task is null)
            {
                task?.StopTask();
                task = current?.AddTask(Cli.Esc(description), maxValue: Math.Max(total, 1));
                taskKey = key;
            }
            if (task is not null) task.MaxValue = Math.Max(total, 1);
            return task!;
        }

        public void Stage(string message) => AnsiConsole.MarkupLine($"[grey]{Cli.Esc(message)}[/]");

        public void Warning(string message) => AnsiConsole.MarkupLine($"[yellow]warning:[/] {Cli.Esc(message)}");

        public void Progress(string name, int done, int total)
        {
            if (current is null) return;
            Task("progress:" + name, name, total).Value = done;
        }

        public void EpochStarted(int epoch, int epochs, int batches)
        {
            if (current is null) return;
            Task($"epoch:{epoch}", $"epoch {epoch}/{epochs}", batches).Value = 0;
        }

        public void BatchDone(int epoch, int batch, double loss, double imagesPerSecond)
        {
            if (current is null || task is null) return;
            task.Value = batch;
            task.Description = Cli.Esc($"epoch {epoch} loss {loss:F3} {imagesPerSecond:F0} img/s");
        }

        public void EpochDone(EpochRecord r, bool improved)
        {
            task?.StopTask();
            task = null;
            taskKey = null;
            var attrs = r.ValMaskF1 is null ? "" : $" (mask {r.ValMaskF1:F3} gender {r.ValGenderF1:F3} age {r.ValAgeF1:F3})";
            AnsiConsole.MarkupLine(
                $"epoch {r.Epoch,3}  train loss {r.TrainLoss:F4}  val loss {r.ValLoss:F4}  val macro F1 [bold]{r.ValMacroF1:F4}[/]{attrs}  lr {r.Lr:G3}  {r.TrainImagesPerSecond:F0} img/s  {r.Seconds:F0}s{(improved ? "  [green]* best[/]" : "")}");
        }
    }

    /// <summary>
    /// The end of a run in a few lines: validation and eval macro F1 with the three attributes (out-of-fold for a
    /// k-fold run), and where its files and report are.
    /// </summary>
    public static void ShowOutcome(RunOutcome outcome, RunDirectory run)
    {
        var t = outcome.Summary.Training;
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("").AddColumn(new TableColumn("macro F1").RightAligned()).AddColumn(new TableColumn("mask").RightAligned())
            .AddColumn(new TableColumn("gender").RightAligned()).AddColumn(new TableColumn("age").RightAligned());
        static string F(double? v) => v is { } x ? x.ToString("F4") : "–";
        static string Share(double? v, double of) => v is { } x && of > 0 ? $"{100 * x / of:F0} %" : "–";
        var best = outcome.Summary.Oof is null ? $"validation (epoch {t.BestEpoch} of {t.EpochsRun}{(t.StoppedEarly ? ", stopped early" : "")})" : "validation (mean of folds)";
        table.AddRow(best, $"[bold]{F(t.BestValMacroF1)}[/]", F(t.BestValMaskF1), F(t.BestValGenderF1), F(t.BestValAgeF1));
        if (outcome.Summary.Oof is { } oof)
            table.AddRow($"out-of-fold ({oof.Folds} folds)", $"[bold]{F(oof.MacroF1)}[/]", F(oof.MaskF1), F(oof.GenderF1), F(oof.AgeF1));
        var ceiling = CeilingCache.Read(t.Data);
        if (outcome.Summary.Eval is { MacroF1: not null } e)
        {
            table.AddRow("eval set (answers.csv)", $"[bold]{F(e.MacroF1)}[/]", F(e.MaskF1), F(e.GenderF1), F(e.AgeF1));
            if (ceiling is { } c)
                table.AddRow("the set's ceiling (masklab ceiling)", F(c.MacroF1), F(c.MaskF1), F(c.GenderF1), F(c.AgeF1))
                    .AddRow("[grey]eval as a share of it[/]", $"[grey]{Share(e.MacroF1, c.MacroF1)}[/]", $"[grey]{Share(e.MaskF1, c.MaskF1)}[/]",
                        $"[grey]{Share(e.GenderF1, c.GenderF1)}[/]", $"[grey]{Share(e.AgeF1, c.AgeF1)}[/]");
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"trained {t.TrainImages} photos ({t.ValImages} validated) in {t.TrainSeconds:F0} s at {t.TrainImagesPerSecond:F1} img/s");
        if (outcome.Prediction is { } p) AnsiConsole.MarkupLine($"submission: [bold]{Cli.Esc(run.SubmissionFile)}[/] ({p.Answers.Length} rows)");
        AnsiConsole.MarkupLine($"run: [bold]{Cli.Esc(run.Path)}[/] (config.yaml, metrics.jsonl, checkpoints/, summary.json, tensorboard/)");
        if (File.Exists(run.ReportFile)) AnsiConsole.MarkupLine($"report: [bold]{Cli.Esc(run.ReportFile)}[/]");
    }
}
