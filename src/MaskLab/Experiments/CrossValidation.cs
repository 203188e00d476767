using MaskLab.Data.Layout;
using MaskLab.Evaluation;
using MaskLab.Platform;
using MaskLab.Runs;
using MaskLab.Training;

namespace MaskLab.Experiments;

/// <summary>
/// Person-level stratified k-fold training: every fold is a normal run directory under RUNDIR/fold-&lt;k&gt;, the photos
/// are decoded once for all folds, and once every fold has finished the held-out probabilities of each photo (from
/// the one model that never saw its person) are gathered into RUNDIR/oof.csv and scored in RUNDIR/summary.json.
/// With fold: k only that fold is trained, so folds can run on separate machines and be gathered into the same
/// directory later; a later call trains the folds still missing and then writes the out-of-fold files.
/// </summary>
public sealed class CrossValidation(RunConfig config, RunDirectory root, ITrainingObserver? observer = null)
{
    readonly ITrainingObserver observer = observer ?? SilentObserver.Instance;

    /// <summary>
    /// Trains the folds the config asks for (all with fold: -1, else the one named) that have not finished yet; a
    /// fold interrupted mid-way is resumed from its last checkpoint. Returns the outcome of the whole k-fold run
    /// (out-of-fold scores, then the eval set predicted by the folds together) when every fold has finished, else null.
    /// </summary>
    /// <remarks>
    /// Training every fold, this process is the root's one writer (<see cref="RunLock"/>) throughout. Training one fold,
    /// it takes the root only while it writes the root's own files, so that folds trained at once (on several machines)
    /// share the root; when another process holds it at the end, that one gathers. Each fold's directory has its own
    /// writer (<see cref="RunJob"/>).
    /// </remarks>
    public RunOutcome? Run(CancellationToken ct = default, RunEnd? end = null)
    {
        end ??= new RunEnd();
        if (config.Fold < 0) CheckRoot();
        using var whole = config.Fold < 0 ? LockRoot() : null;
        var (data, foldOf) = Prepare(ct, rootHeld: whole is not null);
        var wanted = config.Fold >= 0 ? [config.Fold] : Enumerable.Range(0, config.Folds).ToArray();
        foreach (var k in wanted) TrainFold(k, data, foldOf, ct);

        var missing = MissingFolds();
        if (missing.Count > 0)
        {
            observer.Stage($"fold(s) {string.Join(", ", missing)} still to train: out-of-fold scores wait for them");
            return null;
        }
        if (whole is not null) return Finish(data, foldOf, end, ct);
        using var gather = RunWriter.TryOpen(root.Path, out var holder);
        if (gather is null)
        {
            observer.Stage($"every fold has finished; {holder?.ToString() ?? "another process"} holds '{root.Path}' and gathers the out-of-fold scores");
            return null;
        }
        return Finish(data, foldOf, end, ct);
    }

    /// <summary>
    /// Trains fold <paramref name="k"/> alone (skipped when finished, resumed when unfinished) and gathers nothing:
    /// what one Slurm array task of a k-fold run does. The same fold run as <see cref="Run"/> trains it.
    /// </summary>
    public void RunFold(int k, CancellationToken ct = default)
    {
        if (k < 0 || k >= config.Folds) throw new MaskLabInputException($"fold {k} is not a fold of '{root.Path}', which has folds 0..{config.Folds - 1}");
        var (data, foldOf) = Prepare(ct, rootHeld: false);
        TrainFold(k, data, foldOf, ct);
    }

    /// <summary>
    /// The out-of-fold gather once every fold has finished (oof.csv, summary.json, the eval set predicted by the folds
    /// together, the report): what a k-fold run's Slurm gathering job does. Throws when a fold is missing.
    /// </summary>
    public RunOutcome GatherFolds(CancellationToken ct = default, RunEnd? end = null)
    {
        var missing = MissingFolds();
        if (missing.Count > 0)
            throw new MaskLabInputException($"'{root.Path}': fold(s) {string.Join(", ", missing)} not finished: out-of-fold scores need every fold");
        using var writer = LockRoot(RootWait);
        var (data, foldOf) = Prepare(ct, rootHeld: true);
        return Finish(data, foldOf, end ?? new RunEnd(), ct);
    }

    /// <summary>The folds (0-based) whose run directory has not finished.</summary>
    public IReadOnlyList<int> MissingFolds() =>
        Enumerable.Range(0, config.Folds).Where(k => RunStates.Of(root.Fold(k), config.Epochs) != RunState.Finished).ToArray();

    /// <summary>
    /// Writes the root's config.yaml (fold -1) without loading any photo, for tasks that read it back (a Slurm
    /// submission). A root written before must hold the same config in every key: its tasks would train with that one.
    /// </summary>
    public RunConfig WriteRoot()
    {
        var rootConfig = CheckRoot();
        using var writer = LockRoot(RootWait);
        if (root.HasConfig)
        {
            var had = root.ReadConfig().ToMap();
            var want = rootConfig.ToMap();
            if (want.Keys.FirstOrDefault(k => had.GetValueOrDefault(k) != want[k]) is { } key)
                throw new MaskLabInputException($"'{root.Path}' holds a k-fold run with {key}={had.GetValueOrDefault(key)}, not {want[key]}: use another --out");
            return rootConfig;
        }
        Directory.CreateDirectory(root.Path); // a root keeps no checkpoints/ of its own: its folds do
        root.WriteConfig(rootConfig);
        return rootConfig;
    }

    RunConfig CheckRoot()
    {
        config.Validate();
        if (config.Folds < 2) throw new MaskLabInputException($"folds {config.Folds}: cross-validation needs folds of 2 or more");
        OutFolder.Check(root.Path, FolderKind.KFoldRoot);
        var rootConfig = config.Clone();
        rootConfig.Fold = -1;
        if (root.HasConfig) CheckSameFolds(root.ReadConfig());
        return rootConfig;
    }

    /// <summary>
    /// Loads and checks the photos (and the memory the folds need), then writes the root's config.yaml if missing, so
    /// that bad input leaves no root behind. Without <paramref name="rootHeld"/> the root is taken for that write only.
    /// </summary>
    (TrainingData Data, int[] FoldOf) Prepare(CancellationToken ct, bool rootHeld)
    {
        var rootConfig = CheckRoot();
        var data = TrainingData.LoadChecked(config, observer, ct, rootConfig.DataSection);
        using (rootHeld ? null : LockRoot(RootWait))
        {
            if (root.HasConfig) CheckSameFolds(root.ReadConfig());
            Directory.CreateDirectory(root.Path); // a root keeps no checkpoints/ of its own: its folds do
            if (!root.HasConfig) root.WriteConfig(rootConfig);
        }
        return (data, PersonSplit.KFold(data.Set.Samples, config.Folds, config.Seed));
    }

    /// <summary>How long a process waits for another to finish writing the root's own files.</summary>
    static readonly TimeSpan RootWait = TimeSpan.FromSeconds(30);

    /// <summary>Makes this process the root's writer (waiting up to <paramref name="wait"/>); a dead writer's leftovers go.</summary>
    RunLock LockRoot(TimeSpan? wait = null) => RunWriter.Open(root.Path, wait);

    void TrainFold(int k, TrainingData data, int[] foldOf, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var foldRun = root.Fold(k);
        if (RunStates.Of(foldRun, config.Epochs) == RunState.Finished)
        {
            observer.Stage($"fold {k + 1} of {config.Folds}: already trained");
            return;
        }
        observer.Stage($"fold {k + 1} of {config.Folds}");
        var foldConfig = config.Clone();
        foldConfig.Fold = k;
        // A fold is a run of its own; the eval set is predicted once, by all folds together, after the gather.
        new RunJob(foldConfig, foldRun, observer).Run(ct, data.WithSplit(PersonSplit.Fold(foldOf, k)), new RunEnd(Predict: false, Report: false));
    }

    RunOutcome Finish(TrainingData data, int[] foldOf, RunEnd end, CancellationToken ct)
    {
        return RunWriter.Guard("k-fold run", root.Path, () =>
        {
            var device = DeviceResolution.Resolve(config.Device).Device;
            var summary = Gather(data, foldOf, device, ct);
            // The eval photos were decoded (and so checked) with the rest.
            var outcome = RunJob.PredictEvalSet(root, summary, end with { EvalCaches = data.Caches }, ct, device);
            if (end.Report) RunJob.WriteReport(root);
            return outcome;
        });
    }

    void CheckSameFolds(RunConfig existing)
    {
        if (existing.DifferencesFrom(config, "folds", "seed", "model").Count > 0)
            throw new MaskLabInputException(
                $"'{root.Path}' holds a k-fold run with folds {existing.Folds}, seed {existing.Seed}, model {existing.Model}; " +
                $"this config asks for folds {config.Folds}, seed {config.Seed}, model {config.Model}: use another --out");
    }

    /// <summary>Scores each photo with its held-out fold's weights (the fold's eval_checkpoint), writes oof.csv and the k-fold summary.json.</summary>
    RunSummary Gather(TrainingData data, int[] foldOf, TorchSharp.torch.Device device, CancellationToken ct)
    {
        var set = data.Set;
        int n = set.Samples.Count, classes = set.ClassCount;
        var probs = new float[n, classes];
        float[]? ages = null;
        var folds = new List<TrainingResult>();
        for (int k = 0; k < config.Folds; k++)
        {
            ct.ThrowIfCancellationRequested();
            observer.Stage($"out-of-fold probabilities: fold {k + 1} of {config.Folds}");
            using var trained = TrainedRun.Load(root.Fold(k).Path, device: device);
            folds.Add(trained.Result);
            var (_, val) = PersonSplit.Fold(foldOf, k);
            var (p, a) = trained.Predict(val.Select(i => set.Samples[i]).ToArray(), data.Cache, tta: false, ct: ct);
            for (int r = 0; r < val.Length; r++)
                for (int c = 0; c < classes; c++) probs[val[r], c] = p[r, c];
            if (a is not null)
            {
                ages ??= Enumerable.Repeat(float.NaN, n).ToArray();
                for (int r = 0; r < val.Length; r++) ages[val[r]] = a[r];
            }
        }
        OofFile.Write(root.OofFile, set, foldOf, probs, ages);

        var truth = set.Samples.Select(s => s.Label).ToArray();
        var report = Metrics.Evaluate(truth, Metrics.Argmax(probs), set.ClassNames, set.IsTaskClasses);
        // The root's training figures are the folds': means of their best-epoch scores, summed time.
        var training = folds[0] with
        {
            BestValMacroF1 = folds.Average(s => s.BestValMacroF1),
            BestValAccuracy = folds.Average(s => s.BestValAccuracy),
            BestValMaskF1 = Mean(folds.Select(s => s.BestValMaskF1)),
            BestValGenderF1 = Mean(folds.Select(s => s.BestValGenderF1)),
            BestValAgeF1 = Mean(folds.Select(s => s.BestValAgeF1)),
            BestEpoch = (int)Math.Round(folds.Average(s => s.BestEpoch)),
            EpochsRun = folds.Max(s => s.EpochsRun),
            StoppedEarly = folds.Any(s => s.StoppedEarly),
            TrainSeconds = folds.Sum(s => s.TrainSeconds),
            TrainImagesPerSecond = folds.Average(s => s.TrainImagesPerSecond),
            TrainImages = n, ValImages = n,
        };
        var oof = new OofScores
        {
            Folds = config.Folds,
            FoldValMacroF1 = folds.Select(s => s.BestValMacroF1).ToArray(),
            MacroF1 = report.MacroF1, Accuracy = report.Accuracy,
            MaskF1 = report.MaskF1, GenderF1 = report.GenderF1, AgeF1 = report.AgeF1,
        };
        var summary = new RunSummary(training, null, oof);
        root.WriteSummary(summary);
        ConfusionCsv.Write(root.ConfusionFile, report);
        PerClassCsv.Write(root.PerClassFile, report);
        return summary;
    }

    static double? Mean(IEnumerable<double?> values)
    {
        var list = values.ToList();
        return list.All(v => v.HasValue) ? list.Average(v => v!.Value) : null;
    }
}
