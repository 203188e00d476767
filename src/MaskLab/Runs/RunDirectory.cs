using System.Text.Json;

namespace MaskLab.Runs;

/// <summary>
/// The files of one run, and the one place that names them. Every file is replaced atomically (temporary file,
/// then rename). A k-fold run is a root holding its folds as run directories of their own (<see cref="Fold"/>).
/// </summary>
public sealed class RunDirectory(string path)
{
    public string Path { get; } = System.IO.Path.GetFullPath(path);
    public string ConfigFile => Combine("config.yaml");
    public string MetricsFile => Combine("metrics.jsonl");
    public string SummaryFile => Combine("summary.json");
    public string SplitFile => Combine("split.json");
    public string MetadataFile => Combine("metadata.json");
    public string ConfusionFile => Combine("confusion.csv");
    public string PerClassFile => Combine("per_class.csv");
    public string ValPredictionsFile => Combine("val_predictions.csv");
    public string CheckpointsDir => Combine("checkpoints");
    public string LastCheckpoint => Combine("checkpoints", "last.ckpt");
    public string BestCheckpoint => Combine("checkpoints", "best.ckpt");
    public string TensorBoardDir => Combine("tensorboard");
    public string SubmissionFile => Combine("submission.csv");
    public string ReportFile => Combine("report.html");
    /// <summary>A k-fold root's out-of-fold probabilities (<see cref="OofFile"/>).</summary>
    public string OofFile => Combine("oof.csv");
    /// <summary>The label corrections of a run that asked for them: every fix applied or skipped, with its reason.</summary>
    public string LabelFixesFile => Combine("label_fixes.csv");

    /// <summary>Written when the run's loss diverged: the reason, one line. Delete the run folder to retry.</summary>
    public string FailureFile => Combine("failure.txt");

    /// <summary>The file whose kernel lock makes one process the writer of a run, k-fold root or sweep folder (<see cref="RunLock"/>).</summary>
    public const string LockFileName = ".lock";

    /// <summary>Beside the lock: the pid and host of the process holding it, for the message a second writer gets.</summary>
    public const string LockHolderFileName = ".lock.json";

    public string LockFile => Combine(LockFileName);

    /// <summary>Makes this process the run's one writer until disposed (<see cref="RunLock.Acquire(string)"/>).</summary>
    public RunLock Lock() => RunLock.Acquire(Path);

    /// <summary>Deletes what writers killed mid-write left (temporary files of dead processes); for the lock holder.</summary>
    public static void RemoveStaleTemporaryFiles(string dir)
    {
        AtomicFile.RemoveStale(dir);
        // Checkpoints are kept one level down; format-1 versions wrote "<name>.ckpt.tmp" there.
        var checkpoints = System.IO.Path.Combine(dir, "checkpoints");
        AtomicFile.RemoveStale(checkpoints);
        if (Directory.Exists(checkpoints))
            foreach (var old in Directory.EnumerateFiles(checkpoints, "*.ckpt.tmp"))
                try { File.Delete(old); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public bool Exists => Directory.Exists(Path);

    public bool HasConfig => File.Exists(ConfigFile);

    /// <summary>Whether <paramref name="dir"/> holds a run (its config.yaml).</summary>
    public static bool IsRun(string dir) => File.Exists(System.IO.Path.Combine(dir, "config.yaml"));

    public void Create()
    {
        Directory.CreateDirectory(Path);
        Directory.CreateDirectory(CheckpointsDir);
    }

    // ---- k-fold layout ----

    /// <summary>The run directory of fold <paramref name="k"/> (0-based) of a k-fold root.</summary>
    public RunDirectory Fold(int k) => new(Combine($"fold-{k}"));

    /// <summary>True when this directory is a k-fold root (fold-0 inside, no checkpoint of its own).</summary>
    public bool IsKFoldRoot => Directory.Exists(Fold(0).Path) && !File.Exists(LastCheckpoint);

    /// <summary>Replaces each k-fold root among the run directories by its fold directories, in fold order.</summary>
    public static IReadOnlyList<string> ExpandFolds(IEnumerable<string> runs)
    {
        var result = new List<string>();
        foreach (var r in runs)
        {
            var dir = new RunDirectory(r);
            if (!dir.IsKFoldRoot) { result.Add(r); continue; }
            var folds = dir.ReadConfig().Folds;
            for (int k = 0; k < folds; k++)
            {
                var fold = dir.Fold(k);
                if (!fold.Exists) throw new MaskLabInputException($"k-fold run '{r}' has no fold-{k}: train it first (fold: {k})");
                result.Add(fold.Path);
            }
        }
        return result;
    }

    // ---- formats ----

    public static void WriteAllTextAtomic(string file, string text) => AtomicFile.WriteText(file, w => w.Write(text));

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void WriteJsonAtomic<T>(string file, T value) => WriteAllTextAtomic(file, JsonSerializer.Serialize(value, Indented));

    public void WriteConfig(RunConfig config) => WriteAllTextAtomic(ConfigFile, config.ToYaml());

    public RunConfig ReadConfig()
    {
        if (!HasConfig) throw new MaskLabInputException($"'{Path}' is not a MaskLab run (no config.yaml)");
        return RunConfig.LoadRecorded(ConfigFile);
    }

    /// <summary>Records who is in validation, so a reader can check that no person leaks across.</summary>
    public void WriteSplit(int trainImages, int valImages, IEnumerable<string> valGroups) =>
        WriteJsonAtomic(SplitFile, new
        {
            train_images = trainImages,
            val_images = valImages,
            val_groups = valGroups.Distinct().Order(StringComparer.Ordinal).ToArray(),
        });

    /// <summary>Adds an epoch's line by replacing the whole file, so a full disk or a kill never leaves half a line.</summary>
    public void AppendMetrics(EpochRecord record) =>
        WriteAllTextAtomic(MetricsFile, (File.Exists(MetricsFile) ? File.ReadAllText(MetricsFile) : "") + JsonSerializer.Serialize(record) + "\n");

    public IReadOnlyList<EpochRecord> ReadMetrics()
    {
        if (!File.Exists(MetricsFile)) return [];
        var lines = File.ReadAllLines(MetricsFile);
        var records = new List<EpochRecord>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            try { records.Add(JsonSerializer.Deserialize<EpochRecord>(lines[i]) ?? throw new JsonException("null")); }
            catch (JsonException e) { throw new MaskLabInputException($"'{MetricsFile}' line {i + 1} is not an epoch record: {e.Message}"); }
        }
        return records;
    }

    /// <summary>On resume, forgets epochs after the checkpoint so metrics.jsonl matches the weights.</summary>
    public void TruncateMetrics(int epochsDone) =>
        WriteAllTextAtomic(MetricsFile, string.Concat(ReadMetrics().Where(r => r.Epoch <= epochsDone)
            .Select(r => JsonSerializer.Serialize(r) + "\n")));

    public void WriteSummary(RunSummary summary) => WriteAllTextAtomic(SummaryFile, summary.ToJson());

    /// <summary>summary.json, or null before the first epoch has finished.</summary>
    /// <exception cref="JsonException">It is not a summary.json MaskLab wrote; the message names the file.</exception>
    public RunSummary? ReadSummary()
    {
        if (!File.Exists(SummaryFile)) return null;
        var text = InputFile.ReadAllText(SummaryFile, "summary", MaxSummaryBytes);
        try { return RunSummary.Parse(text); }
        catch (JsonException e) { throw new JsonException($"'{SummaryFile}' is not a summary.json MaskLab wrote: {Echo.Of(e.Message)}", e); }
    }

    const long MaxSummaryBytes = 16L << 20;

    /// <summary>The reason in failure.txt, or null when the run has not failed.</summary>
    /// <remarks>A failure.txt that is no regular file (a FIFO would block the reader) is itself the reason.</remarks>
    public string? ReadFailure()
    {
        if (!File.Exists(FailureFile)) return null;
        if (InputFile.Problem(FailureFile, MaxSummaryBytes) is { } problem) return $"failure.txt {problem}";
        return File.ReadAllText(FailureFile).Trim();
    }

    public void WriteFailure(string reason) => WriteAllTextAtomic(FailureFile, reason + "\n");
}
