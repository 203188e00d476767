using MaskLab.Evaluation;
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

    public static void ShowSummary(TrainSummary s, RunDirectory run)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]best validation epoch[/]");
        table.AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("val macro F1", $"[bold]{s.BestValMacroF1:F4}[/]");
        table.AddRow("val accuracy", $"{s.BestValAccuracy:F4}");
        if (s.BestValMaskF1 is { } m) table.AddRow("val mask F1", $"{m:F4}");
        if (s.BestValGenderF1 is { } g) table.AddRow("val gender F1", $"{g:F4}");
        if (s.BestValAgeF1 is { } a) table.AddRow("val age F1", $"{a:F4}");
        table.AddRow("best epoch", $"{s.BestEpoch} of {s.EpochsRun}{(s.StoppedEarly ? " (stopped early)" : "")}");
        table.AddRow("train images / val images", $"{s.TrainImages} / {s.ValImages}");
        table.AddRow("training", $"{s.TrainSeconds:F0} s, {s.TrainImagesPerSecond:F1} img/s");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"run: [bold]{Cli.Esc(run.Path)}[/] (config.yaml, metrics.jsonl, checkpoints/, tensorboard/, summary.json)");
    }
}
