using System.Globalization;
using System.Text.Json;
using CsvHelper;
using MaskLab.Data;
using MaskLab.Training;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace MaskLab.Tracking;

/// <summary>A finished (or running) run directory as read back for reports: every file optional but config.yaml.</summary>
public sealed class RunInfo
{
    public required string Dir { get; init; }
    /// <summary>How the run is named in tables: its path below the folder it was found in.</summary>
    public required string Name { get; init; }
    /// <summary>config.yaml as written, key to text (read loosely: runs from newer builds may carry more keys).</summary>
    public required IReadOnlyDictionary<string, string?> Config { get; init; }
    public TrainSummary? Summary { get; init; }
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

    public static bool IsRunDirectory(string dir) => File.Exists(Path.Combine(dir, "config.yaml"));

    public static RunInfo Load(string dir, string? name = null)
    {
        var full = Path.GetFullPath(dir);
        if (!IsRunDirectory(full)) throw new MaskLabInputException($"'{dir}' is not a MaskLab run (no config.yaml)");
        var run = new RunDirectory(full);
        TrainSummary? summary;
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
        var (cm, names) = ReadConfusion(run.ConfusionFile);
        var classNames = summary?.ClassNames is { Count: > 0 } sn ? sn : names;
        return new RunInfo
        {
            Dir = full, Name = name ?? Path.GetFileName(full), Config = ReadConfig(run.ConfigFile), Summary = summary,
            Epochs = epochs, Confusion = cm, ClassNames = classNames, PerClass = ReadPerClass(run.PerClassFile),
            Metadata = RunMetadata.Read(full),
        };
    }

    static IReadOnlyDictionary<string, string?> ReadConfig(string file)
    {
        try
        {
            var raw = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object?>>(File.ReadAllText(file)) ?? new();
            return raw.ToDictionary(p => p.Key, p => p.Value switch
            {
                null => null,
                string s => s,
                IEnumerable<object> list => string.Join(",", list),
                var v => v.ToString(),
            });
        }
        catch (YamlException e)
        {
            throw new MaskLabInputException($"{file} is not valid YAML: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    static (long[,]? Cm, IReadOnlyList<string> Names) ReadConfusion(string file)
    {
        if (!File.Exists(file)) return (null, []);
        try
        {
            using var csv = CsvReader.FromFile(file, new CsvReaderOptions { Separator = ',' });
            var names = csv.Headers.Skip(1).ToArray();
            var cm = new long[names.Length, names.Length];
            int t = 0;
            while (csv.Read() && t < names.Length)
            {
                for (var p = 0; p < names.Length; p++) cm[t, p] = long.Parse(csv.GetString(p + 1), CultureInfo.InvariantCulture);
                t++;
            }
            return (cm, names);
        }
        catch (Exception e) when (e is FormatException or CsvFormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            throw new MaskLabInputException($"{file} is not a confusion matrix CSV: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    static IReadOnlyList<(string, double, long)> ReadPerClass(string file)
    {
        if (!File.Exists(file)) return [];
        try
        {
            using var csv = CsvReader.FromFile(file, new CsvReaderOptions { Separator = ',' });
            var h = csv.Headers.ToList();
            int name = h.IndexOf("name"), f1 = h.IndexOf("f1"), support = h.IndexOf("support");
            if (name < 0 || f1 < 0) throw new MaskLabInputException($"{file} lacks the name or f1 column");
            var rows = new List<(string, double, long)>();
            while (csv.Read())
                rows.Add((csv.GetString(name), double.Parse(csv.GetString(f1), CultureInfo.InvariantCulture),
                    support >= 0 ? long.Parse(csv.GetString(support), CultureInfo.InvariantCulture) : 0));
            return rows;
        }
        catch (Exception e) when (e is FormatException or CsvFormatException or IndexOutOfRangeException)
        {
            throw new MaskLabInputException($"{file} is not a per-class CSV: {e.Message.ReplaceLineEndings(" ")}");
        }
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
