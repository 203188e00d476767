using MaskLab.Platform;
using System.Text.Json;
using System.Text.Json.Serialization;
using MaskLab.Runs;

namespace MaskLab.Experiments;

/// <summary>One run that a Slurm array task trains: its index in the array, its name and run directory.</summary>
/// <param name="Epochs">The epochs planned; null for epochs auto (decided by the data when the task runs).</param>
public sealed record SlurmUnit(int Index, string Name, RunDirectory Dir, int? Epochs, DeviceChoice Device);

/// <summary>One submission of a batch (DIR/slurm/jobs.jsonl): the array and its gathering job, and the runs it holds.</summary>
public sealed record SlurmSubmissionRecord(
    [property: JsonPropertyName("submitted")] DateTimeOffset Submitted,
    [property: JsonPropertyName("array_job")] long? ArrayJob,
    [property: JsonPropertyName("gather_job")] long? GatherJob,
    [property: JsonPropertyName("runs")] IReadOnlyList<int> Runs);

/// <summary>
/// A folder whose runs Slurm trains as one job array: a sweep's runs (DIR/&lt;run&gt;/), or a k-fold run's folds
/// (RUNDIR/fold-&lt;k&gt;/). DIR/slurm/ holds the scripts, the task logs and the record of every submission.
/// </summary>
public sealed class SlurmBatch
{
    public enum Kinds { Sweep, Folds }

    public Kinds Kind { get; }
    public string Folder { get; }
    public IReadOnlyList<SlurmUnit> Units { get; }

    SlurmBatch(Kinds kind, string folder, IReadOnlyList<SlurmUnit> units) =>
        (Kind, Folder, Units) = (kind, Path.GetFullPath(folder), units);

    public string SlurmDir => Path.Combine(Folder, "slurm");
    /// <summary>The job array's script: sweep.sbatch for a sweep, folds.sbatch for a k-fold run.</summary>
    public string ScriptFile => Path.Combine(SlurmDir, Kind == Kinds.Sweep ? "sweep.sbatch" : "folds.sbatch");
    public string GatherScriptFile => Path.Combine(SlurmDir, "gather.sbatch");
    public string LedgerFile => Path.Combine(SlurmDir, "jobs.jsonl");
    /// <summary>Where array task <paramref name="index"/> of job <paramref name="arrayJob"/> logs (the script's %A_%a).</summary>
    public string TaskLog(long arrayJob, int index) => Path.Combine(SlurmDir, $"{arrayJob}_{index}.out");
    public string GatherLog(long job) => Path.Combine(SlurmDir, $"gather-{job}.out");
    internal string TaskLogPattern => Path.Combine(SlurmDir, "%A_%a.out");
    internal string GatherLogPattern => Path.Combine(SlurmDir, "gather-%j.out");

    /// <summary>A sweep's runs, one task each, in plan order.</summary>
    public static SlurmBatch ForSweep(SweepDirectory dir, SweepPlan plan) =>
        new(Kinds.Sweep, dir.Path, plan.Runs.Select((r, i) => new SlurmUnit(i, r.Name, dir.Run(r), r.Config.Epochs, r.Config.Device)).ToArray());

    /// <summary>A k-fold run's folds, one task each.</summary>
    public static SlurmBatch ForFolds(RunDirectory root, RunConfig config) =>
        new(Kinds.Folds, root.Path, Enumerable.Range(0, config.Folds)
            .Select(k => new SlurmUnit(k, $"fold-{k}", root.Fold(k), config.Epochs, config.Device)).ToArray());

    /// <summary>The batch a folder holds: a sweep folder (sweep.yaml) or a k-fold run (config.yaml with folds).</summary>
    public static SlurmBatch Open(string folder)
    {
        var sweep = new SweepDirectory(folder);
        if (File.Exists(sweep.SpecFile)) return ForSweep(sweep, SweepPlan.Expand(SweepSpec.Load(sweep.SpecFile)));
        var root = new RunDirectory(folder);
        if (root.HasConfig && root.ReadConfig() is { Folds: > 1 } config) return ForFolds(root, config);
        throw new MaskLabInputException($"'{folder}' is neither a sweep folder (no sweep.yaml) nor a k-fold run (no config.yaml with folds)");
    }

    // ---- the record of submissions ----

    static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    /// <summary>Every submission so far, oldest first; an unreadable line (a crash mid-write) is skipped.</summary>
    public IReadOnlyList<SlurmSubmissionRecord> Submissions()
    {
        if (!File.Exists(LedgerFile)) return [];
        var list = new List<SlurmSubmissionRecord>();
        foreach (var line in File.ReadAllLines(LedgerFile).Where(l => l.Trim().Length > 0))
        {
            try { if (JsonSerializer.Deserialize<SlurmSubmissionRecord>(line, Json) is { } r) list.Add(r); }
            catch (JsonException) { }
        }
        return list;
    }

    /// <summary>Appends a submission, or replaces the last one when it is the same array (its gather job now known).</summary>
    internal void Record(SlurmSubmissionRecord record)
    {
        var all = Submissions().ToList();
        if (all.Count > 0 && record.ArrayJob is not null && all[^1].ArrayJob == record.ArrayJob) all[^1] = record;
        else all.Add(record);
        RunDirectory.WriteAllTextAtomic(LedgerFile, string.Concat(all.Select(r => JsonSerializer.Serialize(r, Json) + "\n")));
    }

    /// <summary>The array task that last ran (or runs) each unit: the latest submission that holds it.</summary>
    public IReadOnlyDictionary<int, long> LastArrayOf()
    {
        var last = new Dictionary<int, long>();
        foreach (var s in Submissions())
            if (s.ArrayJob is { } job)
                foreach (var i in s.Runs) last[i] = job;
        return last;
    }
}
