using MaskLab.Data.Loading;
using MaskLab.Runs;
using MaskLab.Training;

namespace MaskLab.Experiments;

/// <summary>The files of a sweep folder: the sweep as it runs, the tables, and one run directory per run.</summary>
public sealed class SweepDirectory(string path)
{
    public string Path { get; } = System.IO.Path.GetFullPath(path);
    public string SpecFile => System.IO.Path.Combine(Path, "sweep.yaml");
    public string ResultsFile => System.IO.Path.Combine(Path, "results.csv");
    public string SummaryFile => System.IO.Path.Combine(Path, "summary.md");

    public RunDirectory Run(SweepRun run) => new(System.IO.Path.Combine(Path, run.Name));
}

/// <summary>
/// Runs a sweep one run after another, each a normal run directory under the sweep folder, and writes
/// results.csv and summary.md after every run. Started again on the same folder it skips finished runs,
/// resumes the unfinished one from its last checkpoint and starts the rest.
/// </summary>
/// <remarks>
/// Where the data has an eval/ folder each run also predicts it (<paramref name="tta"/>: with the flipped view) and
/// is scored on answers.csv, so a table can set validation against photos of people no run has seen. A run whose
/// loss stops being finite is recorded as failed and the sweep goes on: one diverging setting must not cost the rest.
/// </remarks>
public sealed class Sweep(SweepPlan plan, string outDir, ITrainingObserver? observer = null, ISweepObserver? sweepObserver = null,
    bool tta = false)
{
    readonly ITrainingObserver observer = observer ?? SilentObserver.Instance;
    readonly ISweepObserver sweepObserver = sweepObserver ?? new NoSweepObserver();

    sealed class NoSweepObserver : ISweepObserver;

    public SweepDirectory Folder { get; } = new(outDir);

    /// <summary>Runs (or skips) every run in order; throws <see cref="OperationCanceledException"/> when cancelled.</summary>
    /// <remarks>
    /// This process is the sweep folder's one writer (<see cref="RunLock"/>) from start to end, and each run's through
    /// <see cref="RunJob"/>. A sweep refused for bad input before any run started leaves no folder behind.
    /// </remarks>
    public IReadOnlyList<SweepRow> Run(SweepSpec spec, CancellationToken ct = default)
    {
        OutFolder.Check(Folder.Path, FolderKind.Sweep);
        bool existed = Directory.Exists(Folder.Path);
        using var writer = RunWriter.Open(Folder.Path);
        try
        {
            // Finished runs are skipped without reading their checkpoints: a damaged one is refused now, not found later.
            for (int i = 0; i < plan.Runs.Count; i++) CheckFinished(Folder.Run(plan.Runs[i]), plan.Runs[i]);
            WriteSpec(spec);
            var rows = new List<SweepRow>();
            // Runs that read the same photos at the same size share one decode; each seed splits them its own way.
            var loaded = new Dictionary<DataLoadKey, TrainingData>();
            var end = NewEnd(new ImageCaches());
            for (int i = 0; i < plan.Runs.Count; i++)
            {
                ct.ThrowIfCancellationRequested();
                rows.Add(RunOne(i, ct, end, loaded));
                WriteReports(rows);
                CrashPoint.Pass("sweep-run");
            }
            return rows;
        }
        catch (Exception e) when (!existed && OnlySpecWritten())
        {
            // Nothing ran: the folder goes with the lock, as if the sweep had never been started.
            File.Delete(Folder.SpecFile);
            if (e is IOException or UnauthorizedAccessException) throw RunWriter.Failure("sweep", Folder.Path, e);
            throw;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw RunWriter.Failure("sweep", Folder.Path, e);
        }
    }

    bool OnlySpecWritten() => Directory.Exists(Folder.Path) && Directory.EnumerateFileSystemEntries(Folder.Path)
        .Select(System.IO.Path.GetFileName)
        .All(n => n is RunDirectory.LockFileName or RunDirectory.LockHolderFileName || n == System.IO.Path.GetFileName(Folder.SpecFile));

    /// <summary>DIR/sweep.yaml: the sweep as it runs, which a Slurm task reads back to find its run.</summary>
    public void WriteSpec(SweepSpec spec)
    {
        OutFolder.Check(Folder.Path, FolderKind.Sweep);
        Directory.CreateDirectory(Folder.Path);
        RunDirectory.WriteAllTextAtomic(Folder.SpecFile, spec.ToYaml());
    }

    RunEnd NewEnd(ImageCaches? evalCaches) => new(Tta: tta, Report: false, EvalCaches: evalCaches,
        PredictProgress: new SyncProgress<(int Done, int Total)>(p => observer.Progress("predicting eval", p.Done, p.Total)));

    /// <summary>
    /// Run <paramref name="index"/> of the plan, as the loop above runs it and as a Slurm array task runs it alone:
    /// skipped when finished, resumed when unfinished, recorded as failed (failure.txt) when its loss diverges.
    /// Returns its results.csv row. <paramref name="loaded"/> shares decoded photos between the runs of one process.
    /// </summary>
    public SweepRow RunOne(int index, CancellationToken ct = default) => RunOne(index, ct, null, null);

    SweepRow RunOne(int index, CancellationToken ct, RunEnd? end, Dictionary<DataLoadKey, TrainingData>? loaded)
    {
        if (index < 0 || index >= plan.Runs.Count)
            throw new MaskLabInputException($"run index {index} is not in the sweep {Folder.SpecFile}, which has runs 0..{plan.Runs.Count - 1}");
        end ??= NewEnd(null);
        var run = plan.Runs[index];
        var dir = Folder.Run(run);
        CheckFinished(dir, run);
        var state = RunStates.Of(dir, run.Config.Epochs);
        sweepObserver.RunStarting(run, index, plan.Runs.Count, state);

        SweepRow Failed(string reason)
        {
            sweepObserver.RunFailed(run, index, plan.Runs.Count, reason);
            return plan.FailedRowOf(run, reason);
        }

        if (state == RunState.Failed) return Failed(dir.ReadFailure()!);
        TrainingData? data = null;
        if (state != RunState.Finished)
        {
            var c = run.Config.DataSection;
            loaded ??= [];
            if (!loaded.TryGetValue(c.LoadKey, out var photos))
                loaded[c.LoadKey] = photos = TrainingData.LoadChecked(run.Config, observer, ct);
            data = photos.Resplit(c);
        }
        RunOutcome outcome;
        try
        {
            outcome = new RunJob(run.Config, dir, observer).Run(ct, data, end);
        }
        catch (TrainingStoppedException e)
        {
            dir.WriteFailure(e.Message);
            return Failed(e.Message);
        }
        // A finished run is skipped, unless it had not been scored yet (killed while predicting) and was scored now.
        sweepObserver.RunFinished(run, index, plan.Runs.Count, outcome.Summary, skipped: state == RunState.Finished && outcome.Prediction is null);
        return plan.RowOf(run, outcome.Summary);
    }

    /// <summary>
    /// results.csv and summary.md from the run directories as they stand, training nothing (the Slurm executor's
    /// gathering job): finished runs with their scores, diverged runs with failure.txt's reason, and the runs that
    /// <paramref name="failures"/> names (by plan index) with the reason given there, e.g. a cancelled task. Runs
    /// in none of these (still queued or running) are left out and summary.md counts them as not finished.
    /// </summary>
    public IReadOnlyList<SweepRow> Gather(IReadOnlyDictionary<int, string>? failures = null)
    {
        // The tables are the folder's own files: one writer at a time (a second gatherer waits its turn).
        using var writer = RunWriter.Open(Folder.Path, TimeSpan.FromSeconds(30));
        var rows = new List<SweepRow>();
        for (int i = 0; i < plan.Runs.Count; i++)
        {
            var run = plan.Runs[i];
            var dir = Folder.Run(run);
            CheckSameConfig(dir, run);
            switch (RunStates.Of(dir, run.Config.Epochs))
            {
                case RunState.Finished when dir.ReadSummary() is { } summary:
                    rows.Add(plan.RowOf(run, summary));
                    break;
                case RunState.Failed:
                    rows.Add(plan.FailedRowOf(run, dir.ReadFailure()!));
                    break;
                default:
                    if (failures?.GetValueOrDefault(i) is { } reason) rows.Add(plan.FailedRowOf(run, reason));
                    break;
            }
        }
        WriteReports(rows);
        return rows;
    }

    void WriteReports(IReadOnlyList<SweepRow> rows)
    {
        RunDirectory.WriteAllTextAtomic(Folder.ResultsFile, SweepReport.ResultsCsv(plan.VariedKeys, rows));
        RunDirectory.WriteAllTextAtomic(Folder.SummaryFile, SweepReport.SummaryMarkdown(plan.VariedKeys,
            SweepStatistics.Summarize(rows), plan.Runs.Count, rows.Where(r => r.Failure is not null).ToList()));
    }

    /// <summary>
    /// The run's folder holds this run (<see cref="CheckSameConfig"/>) and, where it has finished, checkpoints whose
    /// headers are whole (<see cref="Checkpoint.CheckHeader"/>): a finished run is skipped, so nothing else would notice.
    /// </summary>
    static void CheckFinished(RunDirectory dir, SweepRun run)
    {
        CheckSameConfig(dir, run);
        if (RunStates.Of(dir, run.Config.Epochs) != RunState.Finished) return;
        foreach (var ckpt in new[] { dir.BestCheckpoint, dir.LastCheckpoint }.Where(File.Exists))
        {
            try { Checkpoint.CheckHeader(ckpt); }
            catch (MaskLabInputException e)
            {
                throw new MaskLabInputException($"{e.Message}; its run has finished and would be skipped: delete '{dir.Path}' to train it again");
            }
        }
    }

    /// <summary>A run folder trained with another config (the sweep file changed) must not be skipped or resumed as if it were this run.</summary>
    public static void CheckSameConfig(RunDirectory dir, SweepRun run)
    {
        if (!dir.HasConfig) return;
        if (dir.ReadConfig().DifferencesFrom(run.Config) is [var d, ..])
            throw new MaskLabInputException($"'{dir.Path}' was trained with {d.Key}={d.Value}, not {d.Other}: the sweep changed; use another --out");
    }
}
