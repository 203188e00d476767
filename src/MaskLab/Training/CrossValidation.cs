using System.Globalization;
using System.Text;
using MaskLab.Data;
using MaskLab.Evaluation;

namespace MaskLab.Training;

/// <summary>
/// Person-level stratified k-fold training: every fold is a normal run directory under RUNDIR/fold-&lt;k&gt;, the photos
/// are decoded once for all folds, and once every fold has finished the held-out probabilities of each photo (from
/// the one model that never saw its person) are gathered into RUNDIR/oof.csv and scored in RUNDIR/summary.json.
/// With fold: k only that fold is trained, so folds can run on separate machines and be gathered into the same
/// directory later; a later call trains the folds still missing and then writes the out-of-fold files.
/// </summary>
public sealed class CrossValidation(TrainConfig config, RunDirectory root, ITrainingObserver? observer = null)
{
    readonly ITrainingObserver observer = observer ?? SilentObserver.Instance;

    public const string OofFileName = "oof.csv";

    public static string FoldDir(string root, int fold) => Path.Combine(root, $"fold-{fold}");

    public string OofFile => Path.Combine(root.Path, OofFileName);

    /// <summary>
    /// Trains the folds the config asks for (all with fold: -1, else the one named) that have not finished yet; a
    /// fold interrupted mid-way is resumed from its last checkpoint. Returns the summary of the whole k-fold run
    /// when every fold has finished, else null.
    /// </summary>
    public TrainSummary? Run(CancellationToken ct = default)
    {
        config.Validate();
        if (config.Folds < 2) throw new MaskLabInputException($"folds {config.Folds}: cross-validation needs folds of 2 or more");
        root.Create();
        var rootConfig = config.Clone();
        rootConfig.Fold = -1;
        if (root.HasConfig) CheckSameFolds(root.ReadConfig());
        else RunDirectory.WriteAllTextAtomic(root.ConfigFile, rootConfig.ToYaml());

        var data = TrainingData.Load(rootConfig, observer, ct);
        var foldOf = PersonSplit.KFold(data.Set.Samples, config.Folds, config.Seed);
        var wanted = config.Fold >= 0 ? [config.Fold] : Enumerable.Range(0, config.Folds).ToArray();
        foreach (var k in wanted)
        {
            ct.ThrowIfCancellationRequested();
            var foldRun = new RunDirectory(FoldDir(root.Path, k));
            if (IsFinished(foldRun, config.Epochs))
            {
                observer.Stage($"fold {k + 1} of {config.Folds}: already trained");
                continue;
            }
            observer.Stage($"fold {k + 1} of {config.Folds}");
            var foldConfig = config.Clone();
            foldConfig.Fold = k;
            foldRun.Create();
            bool resume = File.Exists(foldRun.LastCheckpoint);
            if (!resume) RunDirectory.WriteAllTextAtomic(foldRun.ConfigFile, foldConfig.ToYaml());
            var (train, val) = PersonSplit.Fold(foldOf, k);
            var foldData = new TrainingData
            {
                Set = data.Set, TrainIndices = train, ValIndices = val, Cache = data.Cache, DataDir = data.DataDir,
                EvalDir = data.EvalDir, SkippedBad = data.SkippedBad,
            };
            foldData.WriteSplit(foldRun.SplitFile);
            new Trainer(foldConfig, foldRun, observer).Train(foldData, ct, resume);
        }

        var missing = Enumerable.Range(0, config.Folds).Where(k => !IsFinished(new RunDirectory(FoldDir(root.Path, k)), config.Epochs)).ToArray();
        if (missing.Length > 0)
        {
            observer.Stage($"fold(s) {string.Join(", ", missing)} still to train: out-of-fold scores wait for them");
            return null;
        }
        return Gather(data, foldOf, ct);
    }

    /// <summary>A fold counts as finished when its summary exists and its last checkpoint reached the planned epochs or stopped early.</summary>
    static bool IsFinished(RunDirectory run, int epochs) =>
        run.ReadSummary() is { } s && (s.EpochsRun >= epochs || s.StoppedEarly);

    void CheckSameFolds(TrainConfig existing)
    {
        if (existing.Folds != config.Folds || existing.Seed != config.Seed || existing.Model != config.Model)
            throw new MaskLabInputException(
                $"'{root.Path}' holds a k-fold run with folds {existing.Folds}, seed {existing.Seed}, model {existing.Model}; " +
                $"this config asks for folds {config.Folds}, seed {config.Seed}, model {config.Model}: use another --out");
    }

    /// <summary>Scores each photo with its held-out fold's best weights, writes oof.csv and the k-fold summary.json.</summary>
    TrainSummary Gather(TrainingData data, int[] foldOf, CancellationToken ct)
    {
        var set = data.Set;
        int n = set.Samples.Count, classes = set.ClassCount;
        var probs = new float[n, classes];
        var foldSummaries = new List<TrainSummary>();
        for (int k = 0; k < config.Folds; k++)
        {
            ct.ThrowIfCancellationRequested();
            observer.Stage($"out-of-fold probabilities: fold {k + 1} of {config.Folds}");
            using var trained = TrainedRun.Load(FoldDir(root.Path, k));
            foldSummaries.Add(trained.Summary);
            var (_, val) = PersonSplit.Fold(foldOf, k);
            var p = trained.Probabilities(val.Select(i => set.Samples[i]).ToArray(), data.Cache, tta: false, ct: ct);
            for (int r = 0; r < val.Length; r++)
                for (int c = 0; c < classes; c++) probs[val[r], c] = p[r, c];
        }
        WriteOof(OofFile, set, foldOf, probs);

        var truth = set.Samples.Select(s => s.Label).ToArray();
        var report = Metrics.Evaluate(truth, Metrics.Argmax(probs), set.ClassNames, set.IsTaskClasses);
        var first = foldSummaries[0];
        var summary = first with
        {
            BestValMacroF1 = foldSummaries.Average(s => s.BestValMacroF1),
            BestValAccuracy = foldSummaries.Average(s => s.BestValAccuracy),
            BestValMaskF1 = Mean(foldSummaries.Select(s => s.BestValMaskF1)),
            BestValGenderF1 = Mean(foldSummaries.Select(s => s.BestValGenderF1)),
            BestValAgeF1 = Mean(foldSummaries.Select(s => s.BestValAgeF1)),
            BestEpoch = (int)Math.Round(foldSummaries.Average(s => s.BestEpoch)),
            EpochsRun = foldSummaries.Max(s => s.EpochsRun),
            StoppedEarly = foldSummaries.Any(s => s.StoppedEarly),
            TrainSeconds = foldSummaries.Sum(s => s.TrainSeconds),
            TrainImagesPerSecond = foldSummaries.Average(s => s.TrainImagesPerSecond),
            TrainImages = n, ValImages = n,
            Folds = config.Folds,
            FoldValMacroF1 = foldSummaries.Select(s => s.BestValMacroF1).ToArray(),
            OofMacroF1 = report.MacroF1, OofAccuracy = report.Accuracy,
            OofMaskF1 = report.MaskF1, OofGenderF1 = report.GenderF1, OofAgeF1 = report.AgeF1,
            EvalMacroF1 = null, EvalAccuracy = null, EvalMaskF1 = null, EvalGenderF1 = null, EvalAgeF1 = null, Submission = null,
        };
        RunDirectory.WriteJsonAtomic(root.SummaryFile, summary);
        ConfusionCsv.Write(root.ConfusionFile, report);
        PerClassCsv.Write(root.PerClassFile, report);
        return summary;
    }

    static double? Mean(IEnumerable<double?> values)
    {
        var list = values.ToList();
        return list.All(v => v.HasValue) ? list.Average(v => v!.Value) : null;
    }

    /// <summary>oof.csv: path, person, truth, fold, then p0..p(C-1), one row per training photo in data order.</summary>
    public static void WriteOof(string file, LabeledSet set, int[] foldOf, float[,] probs)
    {
        int classes = probs.GetLength(1);
        AtomicFile.WriteText(file, w =>
        {
            var header = new StringBuilder("path,person,truth,fold");
            for (int c = 0; c < classes; c++) header.Append(",p").Append(c);
            w.WriteLine(header);
            var line = new StringBuilder();
            for (int i = 0; i < set.Samples.Count; i++)
            {
                var s = set.Samples[i];
                line.Clear().Append(Csv(s.Path)).Append(',').Append(Csv(s.Group)).Append(',')
                    .Append(s.Label.ToString(CultureInfo.InvariantCulture)).Append(',')
                    .Append(foldOf[i].ToString(CultureInfo.InvariantCulture));
                for (int c = 0; c < classes; c++) line.Append(',').Append(probs[i, c].ToString("R", CultureInfo.InvariantCulture));
                w.WriteLine(line);
            }
        });
    }

    static string Csv(string v) => v.IndexOfAny([',', '"', '\n', '\r']) < 0 ? v : "\"" + v.Replace("\"", "\"\"") + "\"";

    /// <summary>Out-of-fold probabilities read back from oof.csv: rows in file order.</summary>
    public sealed record Oof(string[] Paths, string[] Persons, int[] Truth, int[] Fold, float[,] Probabilities);

    public static Oof ReadOof(string file)
    {
        if (!File.Exists(file)) throw new MaskLabInputException($"'{file}' does not exist (a k-fold run writes oof.csv once all folds have finished)");
        var header = File.ReadLines(file).FirstOrDefault()?.Split(',') ?? [];
        int classes = header.Count(h => h.Length > 1 && h[0] == 'p' && char.IsDigit(h[1]));
        if (classes == 0) throw new MaskLabInputException($"'{file}' is not an oof.csv (expected path,person,truth,fold,p0..)");
        var table = CsvTable.Read(file, ["path", "person", "truth", "fold", .. Enumerable.Range(0, classes).Select(c => $"p{c}")]);
        int n = table.Rows.Count;
        var paths = new string[n]; var persons = new string[n]; var truth = new int[n]; var fold = new int[n];
        var probs = new float[n, classes];
        for (int r = 0; r < n; r++)
        {
            var row = table.Rows[r].Values;
            try
            {
                paths[r] = row[0]; persons[r] = row[1];
                truth[r] = int.Parse(row[2], CultureInfo.InvariantCulture);
                fold[r] = int.Parse(row[3], CultureInfo.InvariantCulture);
                for (int c = 0; c < classes; c++) probs[r, c] = float.Parse(row[4 + c], CultureInfo.InvariantCulture);
            }
            catch (FormatException)
            {
                throw new MaskLabInputException($"'{file}' line {table.Rows[r].Line} is not a valid oof row");
            }
        }
        return new Oof(paths, persons, truth, fold, probs);
    }

    /// <summary>True when the directory is a k-fold root (fold-0 inside, no checkpoint of its own).</summary>
    public static bool IsKFoldRoot(string dir) =>
        Directory.Exists(FoldDir(dir, 0)) && !File.Exists(new RunDirectory(dir).LastCheckpoint);

    /// <summary>Replaces each k-fold root among the run directories by its fold directories, in fold order.</summary>
    public static IReadOnlyList<string> ExpandRuns(IEnumerable<string> runs)
    {
        var result = new List<string>();
        foreach (var r in runs)
        {
            if (!IsKFoldRoot(r)) { result.Add(r); continue; }
            var folds = new RunDirectory(r).ReadConfig().Folds;
            for (int k = 0; k < folds; k++)
            {
                var dir = FoldDir(r, k);
                if (!Directory.Exists(dir)) throw new MaskLabInputException($"k-fold run '{r}' has no fold-{k}: train it first (fold: {k})");
                result.Add(dir);
            }
        }
        return result;
    }
}
