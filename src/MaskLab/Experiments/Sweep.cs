using MaskLab.Data;
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
    public IReadOnlyList<SweepRow> Run(SweepSpec spec, CancellationToken ct = default)
    {
        Directory.CreateDirectory(Folder.Path);
        RunDirectory.WriteAllTextAtomic(Folder.SpecFile, spec.ToYaml());

        var rows = new List<SweepRow>();
        // Runs that read the same photos at the same size share one decode; each seed splits them its own way.
        var loaded = new Dictionary<string, TrainingData>();
        var end = new RunEnd(Tta: tta, Report: false, EvalCaches: new ImageCaches(),
            PredictProgress: new SyncProgress<(int Done, int Total)>(p => observer.Progress("predicting eval", p.Done, p.Total)));
        for (int i = 0; i < plan.Runs.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var run = plan.Runs[i];
            var dir = Folder.Run(run);
            CheckSameConfig(dir, run);
            var state = RunStates.Of(dir, run.Config.Epochs);
            sweepObserver.RunStarting(run, i, plan.Runs.Count, state);

            void RecordFailure(string reason)
            {
                rows.Add(plan.FailedRowOf(run, reason));
                WriteReports(rows);
                sweepObserver.RunFailed(run, i, plan.Runs.Count, reason);
            }

            if (state == RunState.Failed)
            {
                RecordFailure(dir.ReadFailure()!);
                continue;
            }
            TrainingData? data = null;
            if (state != RunState.Finished)
            {
                var c = run.Config.DataSection;
                var key = string.Join("|", c.Dir ?? $"default:{c.SynthPeople}:{c.SynthEvalPeople}", c.Size, c.SkipBad);
                if (!loaded.TryGetValue(key, out var photos)) loaded[key] = photos = TrainingData.Load(c, observer, ct);
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
                RecordFailure(e.Message);
                continue;
            }
            rows.Add(plan.RowOf(run, outcome.Summary));
            WriteReports(rows);
            // A finished run is skipped, unless it had not been scored yet (killed while predicting) and was scored now.
            sweepObserver.RunFinished(run, i, plan.Runs.Count, outcome.Summary, skipped: state == RunState.Finished && outcome.Prediction is null);
        }
        return rows;
    }

    void WriteReports(IReadOnlyList<SweepRow> rows)
    {
        RunDirectory.WriteAllTextAtomic(Folder.ResultsFile, SweepReport.ResultsCsv(plan.VariedKeys, rows));
        RunDirectory.WriteAllTextAtomic(Folder.SummaryFile, SweepReport.SummaryMarkdown(plan.VariedKeys,
            SweepStatistics.Summarize(rows), plan.Runs.Count, rows.Where(r => r.Failure is not null).ToList()));
    }

    /// <summary>A run folder trained with another config (the sweep file changed) must not be skipped or resumed as if it were this run.</summary>
    static void CheckSameConfig(RunDirectory dir, SweepRun run)
    {
        if (!dir.HasConfig) return;
        var had = dir.ReadConfig().ToMap();
        var want = run.Config.ToMap();
        var differs = want.Keys.FirstOrDefault(k => had.GetValueOrDefault(k) != want[k]);
        if (differs is not null)
            throw new MaskLabInputException($"'{dir.Path}' was trained with {differs}={had.GetValueOrDefault(differs)}, not {want[differs]}: the sweep changed; use another --out");
    }
}
