using System.Globalization;
using System.Text.Json;
using MaskLab.Data.Layout;
using MaskLab.Evaluation;
using MaskLab.Runs;

namespace MaskLab.Tracking;

/// <summary>A finished (or running) run directory as read back for reports: every file optional but config.yaml.</summary>
public sealed class RunInfo
{
    public required string Dir { get; init; }
    /// <summary>How the run is named in tables: its path below the folder it was found in.</summary>
    public required string Name { get; init; }
    /// <summary>config.yaml as written, key to text (read loosely: runs from newer builds may carry more keys).</summary>
    public required IReadOnlyDictionary<string, string?> Config { get; init; }
    public TrainingResult? Summary { get; init; }
    /// <summary>The eval set's scores, where the run predicted one.</summary>
    public EvalScores? Eval { get; init; }
    public IReadOnlyList<EpochRecord> Epochs { get; init; } = [];
    public long[,]? Confusion { get; init; }
    public IReadOnlyList<string> ClassNames { get; init; } = [];
    public IReadOnlyList<(string Name, double F1, long Support)> PerClass { get; init; } = [];
    public System.Text.Json.Nodes.JsonObject? Metadata { get; init; }

    public double? BestMacroF1 => Summary?.BestValMacroF1 ?? (Epochs.Count > 0 ? Epochs.Max(e => e.ValMacroF1) : null);

    public EpochRecord? BestEpoch => Epochs.Count == 0 ? null
        : Epochs.FirstOrDefault(e => e.Epoch == Summary?.BestEpoch) ?? Epochs.MaxBy(e => e.ValMacroF1);

    public string ClassName(int c) => c >= 0 && c < ClassNames.Count ? ClassNames[c]
        : ClassNames.Count == 0 && c is >= 0 and < TaskClasses.Count ? TaskClasses.Name(c) : c.ToString(CultureInfo.InvariantCulture);

    public static bool IsRunDirectory(string dir) => RunDirectory.IsRun(dir);

    public static RunInfo Load(string dir, string? name = null)
    {
        var full = Path.GetFullPath(dir);
        if (!IsRunDirectory(full)) throw new MaskLabInputException($"'{dir}' is not a MaskLab run (no config.yaml)");
        var run = new RunDirectory(full);
        RunSummary? summary;
        IReadOnlyList<EpochRecord> epochs;
        try
        {
            summary = run.ReadSummary();
            epochs = run.ReadMetrics();
        }
        catch (JsonException e)
        {
            throw new MaskLabInputException($"a JSON file in '{dir}' is malformed: {e.Message.ReplaceLineEndings(" ")}");
        }
        var (cm, names) = ConfusionCsv.Read(run.ConfusionFile);
        var classNames = summary?.Training.ClassNames is { Count: > 0 } sn ? sn : names;
        return new RunInfo
        {
            Dir = full, Name = name ?? Path.GetFileName(full),
            Config = Yaml.ScalarMap(Yaml.ReadFile(run.ConfigFile), run.ConfigFile, loose: true),
            Summary = summary?.Training, Eval = summary?.Eval,
            Epochs = epochs, Confusion = cm, ClassNames = classNames, PerClass = PerClassCsv.Read(run.PerClassFile),
            Metadata = RunMetadata.Read(run),
        };
    }
}

/// <summary>
/// Turns command-line paths into runs: a run directory is itself; a folder whose subfolders are runs (a sweep, a
/// k-fold run) stands for those runs, found up to a few levels down.
/// </summary>
public static class RunSet
{
    const int MaxDepth = 3;

    public static IReadOnlyList<RunInfo> Expand(IEnumerable<string> paths)
    {
        var runs = new List<RunInfo>();
        foreach (var p in paths)
        {
            if (!Directory.Exists(p)) throw new MaskLabInputException($"'{p}' is not a folder");
            var full = Path.GetFullPath(p);
            if (RunInfo.IsRunDirectory(full)) { runs.Add(RunInfo.Load(full)); continue; }
            var found = Find(full, 0).ToList();
            if (found.Count == 0)
                throw new MaskLabInputException($"'{p}' is neither a run directory (no config.yaml) nor a folder of run directories");
            runs.AddRange(found.Select(d => RunInfo.Load(d, Path.GetRelativePath(full, d))));
        }
        return runs;
    }

    static IEnumerable<string> Find(string dir, int depth)
    {
        if (depth >= MaxDepth) yield break;
        foreach (var sub in Directory.EnumerateDirectories(dir).Order(StringComparer.Ordinal))
        {
            if (RunInfo.IsRunDirectory(sub)) yield return sub;
            else foreach (var d in Find(sub, depth + 1)) yield return d;
        }
    }
}
