using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace MaskLab.Training;

/// <summary>
/// A sweep file: a base config, overrides for every run, the seeds, and the settings to compare (a grid's
/// cartesian product and / or a list of override maps). Values are kept as the text a config file holds.
/// </summary>
public sealed record SweepSpec
{
    /// <summary>Every config key of the base after the sweep's <c>set</c> (and the command line's) is applied.</summary>
    public required IReadOnlyDictionary<string, string?> Base { get; init; }
    public required IReadOnlyList<int> Seeds { get; init; }
    public IReadOnlyList<KeyValuePair<string, IReadOnlyList<string>>> Grid { get; init; } = [];
    public IReadOnlyList<IReadOnlyList<KeyValuePair<string, string>>> Runs { get; init; } = [];

    static readonly string[] TopKeys = ["base", "set", "seeds", "grid", "runs"];

    /// <summary>
    /// Reads a sweep file. <paramref name="overrides"/> (key=value) and <paramref name="data"/> apply to the base
    /// after the file's own <c>set</c>. Bad shapes, unknown keys and bad values fail here, naming the file.
    /// </summary>
    public static SweepSpec Load(string file, IEnumerable<string>? overrides = null, string? data = null)
    {
        if (!File.Exists(file)) throw new MaskLabInputException($"sweep file '{file}' does not exist");
        Dictionary<object, object?> root;
        try
        {
            root = new DeserializerBuilder().Build().Deserialize<Dictionary<object, object?>>(File.ReadAllText(file)) ?? new();
        }
        catch (YamlException e)
        {
            throw new MaskLabInputException($"{file} is not valid YAML: {e.Message.ReplaceLineEndings(" ")}");
        }
        foreach (var k in root.Keys.Select(k => k.ToString()!))
            if (!TopKeys.Contains(k)) throw new MaskLabInputException($"unknown sweep key '{k}' in {file}; known: {string.Join(", ", TopKeys)}");

        var baseMap = root.GetValueOrDefault("base") switch
        {
            null => new TrainConfig().ToMap(),
            string path => TrainConfig.Load(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, path)).ToMap(),
            Dictionary<object, object?> inline => TrainConfig.FromMap(Scalars(inline, file, "base"), $"{file} (base)").ToMap(),
            _ => throw new MaskLabInputException($"'base' in {file} must be a config file path or a mapping of config keys"),
        };
        if (root.GetValueOrDefault("set") is { } set)
        {
            if (set is not Dictionary<object, object?> setMap) throw new MaskLabInputException($"'set' in {file} must be a mapping of config keys");
            foreach (var (k, v) in Scalars(setMap, file, "set")) baseMap[k] = v;
        }
        foreach (var o in overrides ?? [])
        {
            var eq = o.IndexOf('=');
            if (eq <= 0) throw new MaskLabInputException($"--set '{o}' is not key=value");
            baseMap[o[..eq].Trim()] = o[(eq + 1)..].Trim();
        }
        if (data is not null) baseMap["data"] = data;
        var baseConfig = TrainConfig.FromMap(baseMap, file);

        var seeds = root.GetValueOrDefault("seeds") switch
        {
            null => [baseConfig.Seed],
            List<object> list when list.Count > 0 => list.Select(s => ParseSeed(s, file)).ToArray(),
            string one => [ParseSeed(one, file)],
            _ => throw new MaskLabInputException($"'seeds' in {file} must be a non-empty list of whole numbers"),
        };
        if (seeds.Distinct().Count() != seeds.Length) throw new MaskLabInputException($"'seeds' in {file} lists a seed twice");

        var grid = new List<KeyValuePair<string, IReadOnlyList<string>>>();
        if (root.GetValueOrDefault("grid") is { } g)
        {
            if (g is not Dictionary<object, object?> gridMap) throw new MaskLabInputException($"'grid' in {file} must map config keys to lists of values");
            foreach (var (k, v) in gridMap)
            {
                var key = CheckKey(k.ToString()!, file, "grid");
                IReadOnlyList<string> values = v switch
                {
                    List<object> list when list.Count > 0 => list.Select(x => Scalar(x, file, key)).ToArray(),
                    string s => [s],
                    _ => throw new MaskLabInputException($"grid key '{key}' in {file} needs a non-empty list of values"),
                };
                if (values.Distinct().Count() != values.Count) throw new MaskLabInputException($"grid key '{key}' in {file} lists a value twice");
                grid.Add(new(key, values));
            }
        }

        var runs = new List<IReadOnlyList<KeyValuePair<string, string>>>();
        if (root.GetValueOrDefault("runs") is { } r)
        {
            if (r is not List<object> runList) throw new MaskLabInputException($"'runs' in {file} must be a list of mappings of config keys");
            foreach (var entry in runList)
            {
                if (entry is not Dictionary<object, object?> m) throw new MaskLabInputException($"each entry of 'runs' in {file} must be a mapping of config keys");
                runs.Add(m.Select(kv => new KeyValuePair<string, string>(CheckKey(kv.Key.ToString()!, file, "runs"), Scalar(kv.Value, file, kv.Key.ToString()!))).ToArray());
            }
        }

        return new SweepSpec { Base = baseMap, Seeds = seeds, Grid = grid, Runs = runs };
    }

    static string CheckKey(string key, string file, string where)
    {
        if (key == "seed") throw new MaskLabInputException($"'seed' in '{where}' of {file}: list seeds under 'seeds' instead");
        if (!TrainConfig.Keys.Contains(key))
            throw new MaskLabInputException($"unknown config key '{key}' in '{where}' of {file}; known: {string.Join(", ", TrainConfig.Keys)}");
        return key;
    }

    static int ParseSeed(object? s, string file) =>
        s is string text && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
            ? seed
            : throw new MaskLabInputException($"seed '{s}' in {file} is not a whole number");

    static Dictionary<string, string?> Scalars(Dictionary<object, object?> map, string file, string where) =>
        map.ToDictionary(kv => kv.Key.ToString()!, kv => kv.Value is null ? null : Scalar(kv.Value, file, $"{where}.{kv.Key}"));

    /// <summary>A config value as text; a YAML list (age_cuts: [30, 58]) becomes the comma form config keys take.</summary>
    static string Scalar(object? value, string file, string key) => value switch
    {
        null => "",
        string s => s,
        List<object> list when list.All(x => x is string) => string.Join(",", list),
        _ => throw new MaskLabInputException($"value of '{key}' in {file} must be a single value"),
    };

    /// <summary>The sweep as it will run, every base key spelled out and the seeds explicit (DIR/sweep.yaml).</summary>
    public string ToYaml()
    {
        var doc = new Dictionary<string, object?>
        {
            ["base"] = Base.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value),
            ["seeds"] = Seeds.ToList(),
        };
        if (Grid.Count > 0) doc["grid"] = Grid.ToDictionary(kv => kv.Key, kv => kv.Value.ToList());
        if (Runs.Count > 0) doc["runs"] = Runs.Select(r => r.ToDictionary(kv => kv.Key, kv => kv.Value)).ToList();
        return new SerializerBuilder().WithQuotingNecessaryStrings().Build().Serialize(doc);
    }
}

/// <summary>One training run of a sweep: a setting (its overrides) at one seed, in DIR/<see cref="Name"/>.</summary>
public sealed record SweepRun(int SettingIndex, IReadOnlyList<KeyValuePair<string, string>> Overrides, int Seed, string Name, TrainConfig Config);

/// <summary>The runs of a sweep in order, and the keys its settings vary (the table's columns).</summary>
public sealed record SweepPlan(IReadOnlyList<string> VariedKeys, IReadOnlyList<SweepRun> Runs)
{
    public int SettingCount => Runs.Count == 0 ? 0 : Runs.Max(r => r.SettingIndex) + 1;

    /// <summary>The value a run trains with for each varied key (the base's where its setting leaves a key alone).</summary>
    public IReadOnlyList<string> ValuesOf(SweepRun run)
    {
        var map = run.Config.ToMap();
        return VariedKeys.Select(k => map[k] ?? "").ToArray();
    }

    /// <summary>
    /// What the summary table shows for each varied key: the setting's own value, or "–" where the setting leaves the
    /// key at the base (a single loss has no loss_alpha to speak of, though the base holds one).
    /// </summary>
    public IReadOnlyList<string> LabelsOf(SweepRun run) =>
        VariedKeys.Select(k => run.Overrides.FirstOrDefault(kv => kv.Key == k) is { Key: not null } kv ? kv.Value : NotSet).ToArray();

    public const string NotSet = "–";

    /// <summary>The results.csv row of a run that finished with <paramref name="summary"/>.</summary>
    public SweepRow RowOf(SweepRun run, TrainSummary summary) =>
        new(run.SettingIndex, ValuesOf(run), run.Seed, run.Name, summary.BestValMacroF1,
            summary.BestValMaskF1, summary.BestValGenderF1, summary.BestValAgeF1, summary.BestEpoch,
            summary.TrainSeconds, summary.TrainImagesPerSecond,
            summary.EvalMacroF1, summary.EvalMaskF1, summary.EvalGenderF1, summary.EvalAgeF1) { Labels = LabelsOf(run) };

    /// <summary>The results.csv row of a run that failed for <paramref name="reason"/>.</summary>
    public SweepRow FailedRowOf(SweepRun run, string reason) => SweepRow.Failed(run, ValuesOf(run), reason) with { Labels = LabelsOf(run) };
}

/// <summary>
/// One run that ended, as results.csv holds it: its best validation scores, its eval-set scores where the data has
/// eval answers, or, for a run that stopped on a non-finite loss, the reason in <see cref="Failure"/>.
/// </summary>
public sealed record SweepRow(int SettingIndex, IReadOnlyList<string> Values, int Seed, string Name,
    double MacroF1, double? MaskF1, double? GenderF1, double? AgeF1, int BestEpoch, double Seconds, double ImagesPerSecond,
    double? EvalMacroF1 = null, double? EvalMaskF1 = null, double? EvalGenderF1 = null, double? EvalAgeF1 = null, string? Failure = null)
{
    /// <summary>The varied keys as the summary table shows them (<see cref="SweepPlan.LabelsOf"/>); null: <see cref="Values"/>.</summary>
    public IReadOnlyList<string>? Labels { get; init; }

    public static SweepRow Failed(SweepRun run, IReadOnlyList<string> values, string reason) =>
        new(run.SettingIndex, values, run.Seed, run.Name, double.NaN, null, null, null, 0, 0, 0, Failure: reason);
}

public enum SweepMark { None, Best, WithinSpread }

/// <summary>Mean and sample standard deviation of a metric over a setting's seeds.</summary>
public readonly record struct MeanStd(double Mean, double Std, int N)
{
    public override string ToString() => N > 1
        ? string.Create(CultureInfo.InvariantCulture, $"{Mean:F4} ± {Std:F4}")
        : Mean.ToString("F4", CultureInfo.InvariantCulture);
}

/// <summary>One row of summary.md: a setting over its seeds.</summary>
public sealed record SettingSummary(int SettingIndex, IReadOnlyList<string> Values, int Seeds,
    MeanStd MacroF1, MeanStd? MaskF1, MeanStd? GenderF1, MeanStd? AgeF1, double Seconds, SweepMark Mark, MeanStd? EvalMacroF1 = null);

public enum RunState { NotStarted, Unfinished, Finished, Failed }

/// <summary>What a sweep tells whoever watches it, besides the trainer's own progress.</summary>
public interface ISweepObserver
{
    void RunStarting(SweepRun run, int index, int total, RunState state) { }
    void RunFinished(SweepRun run, int index, int total, TrainSummary summary, bool skipped) { }
    void RunFailed(SweepRun run, int index, int total, string reason) { }
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
    public const string SweepFile = "sweep.yaml";
    public const string ResultsFile = "results.csv";
    public const string SummaryFile = "summary.md";

    readonly ITrainingObserver observer = observer ?? SilentObserver.Instance;
    readonly ISweepObserver sweepObserver = sweepObserver ?? new NoSweepObserver();

    sealed class NoSweepObserver : ISweepObserver;

    public string OutDir { get; } = Path.GetFullPath(outDir);

    // ---- pure parts ----

    /// <summary>
    /// The settings (the grid's product in the order its keys are written, last key fastest, then each entry of
    /// runs; the base alone when neither is given) times the seeds, with their configs built and validated.
    /// </summary>
    public static SweepPlan Expand(SweepSpec spec)
    {
        var settings = new List<IReadOnlyList<KeyValuePair<string, string>>>();
        if (spec.Grid.Count > 0) settings.AddRange(Product(spec.Grid));
        settings.AddRange(spec.Runs);
        if (settings.Count == 0) settings.Add([]);

        var varied = new List<string>();
        foreach (var s in settings)
            foreach (var (k, _) in s)
                if (!varied.Contains(k)) varied.Add(k);

        var runs = new List<SweepRun>();
        var names = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < settings.Count; i++)
        {
            foreach (var seed in spec.Seeds)
            {
                var map = new Dictionary<string, string?>(spec.Base);
                foreach (var (k, v) in settings[i]) map[k] = v;
                map["seed"] = seed.ToString(CultureInfo.InvariantCulture);
                var label = string.Join(", ", settings[i].Select(kv => $"{kv.Key}={kv.Value}"));
                var config = TrainConfig.FromMap(map, label.Length > 0 ? $"sweep setting {label}" : "sweep base");
                config.Validate();
                var name = RunName(settings[i], seed);
                if (names.TryGetValue(name, out var other))
                    throw new MaskLabInputException(other == i
                        ? $"sweep setting '{label}' sets a key twice"
                        : $"sweep settings {other + 1} and {i + 1} give the same run name '{name}': list each setting once");
                names[name] = i;
                runs.Add(new SweepRun(i, settings[i], seed, name, config));
            }
        }
        return new SweepPlan(varied, runs);
    }

    /// <summary>The cartesian product of the grid, the last key changing fastest.</summary>
    public static IEnumerable<IReadOnlyList<KeyValuePair<string, string>>> Product(IReadOnlyList<KeyValuePair<string, IReadOnlyList<string>>> grid)
    {
        IEnumerable<IReadOnlyList<KeyValuePair<string, string>>> acc = [[]];
        foreach (var (key, values) in grid)
            acc = acc.SelectMany(prefix => values.Select(v => (IReadOnlyList<KeyValuePair<string, string>>)[.. prefix, new(key, v)])).ToList();
        return acc;
    }

    const int MaxNameLength = 120;

    /// <summary>
    /// The folder name of a run: the setting's key=value pairs in order, then the seed, joined by "__"; characters
    /// outside [A-Za-z0-9._+=-] become '-'. Names over 120 characters keep their start and end in a short hash of the
    /// full text, so they stay unique and stable.
    /// </summary>
    public static string RunName(IReadOnlyList<KeyValuePair<string, string>> overrides, int seed)
    {
        var full = string.Join("__", overrides.Select(kv => $"{kv.Key}={kv.Value}").Append($"seed={seed.ToString(CultureInfo.InvariantCulture)}"));
        var safe = new string(full.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '+' or '=' or '-' ? c : '-').ToArray());
        if (safe.Length <= MaxNameLength) return safe;
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(full)))[..10];
        return $"{safe[..(MaxNameLength - 11)]}-{hash}";
    }

    /// <summary>Mean and sample (n - 1) standard deviation; one value has a deviation of 0.</summary>
    public static MeanStd Stats(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return new MeanStd(double.NaN, double.NaN, 0);
        double mean = values.Average();
        double std = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : 0;
        return new MeanStd(mean, std, values.Count);
    }

    /// <summary>
    /// The settings from best to worst mean val macro F1. The best is marked <see cref="SweepMark.Best"/>; another
    /// setting is <see cref="SweepMark.WithinSpread"/> when best mean - its mean &lt;= best std + its std, i.e. the
    /// two one-standard-deviation bands over seeds touch, so the seeds do not separate it from the best. Marks need
    /// at least two seeds on both settings: one seed says nothing about the spread.
    /// </summary>
    public static IReadOnlyList<SettingSummary> Summarize(IReadOnlyList<SweepRow> rows)
    {
        var settings = rows.Where(r => r.Failure is null).GroupBy(r => r.SettingIndex).Select(g =>
        {
            var list = g.ToList();
            return new SettingSummary(g.Key, list[0].Labels ?? list[0].Values, list.Count, Stats(list.Select(r => r.MacroF1).ToList()),
                Optional(list, r => r.MaskF1), Optional(list, r => r.GenderF1), Optional(list, r => r.AgeF1),
                list.Average(r => r.Seconds), SweepMark.None, Optional(list, r => r.EvalMacroF1));
        }).OrderByDescending(s => s.MacroF1.Mean).ThenBy(s => s.SettingIndex).ToList();
        if (settings.Count == 0) return settings;

        var best = settings[0];
        if (best.Seeds < 2) return settings;
        return settings.Select((s, i) => s with
        {
            Mark = i == 0 ? SweepMark.Best
                : s.Seeds >= 2 && best.MacroF1.Mean - s.MacroF1.Mean <= best.MacroF1.Std + s.MacroF1.Std ? SweepMark.WithinSpread
                : SweepMark.None,
        }).ToList();
    }

    static MeanStd? Optional(List<SweepRow> rows, Func<SweepRow, double?> pick) =>
        rows.All(r => pick(r) is not null) ? Stats(rows.Select(r => pick(r)!.Value).ToList()) : null;

    public static string MarkText(SweepMark mark) => mark switch
    {
        SweepMark.Best => "best",
        SweepMark.WithinSpread => "≈ best",
        _ => "",
    };

    static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    static string F(double? v) => v is { } x ? F(x) : "";

    static string Csv(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{field.Replace("\"", "\"\"")}\"" : field;

    /// <summary>results.csv: one row per run that ended; a failed run has empty scores and its reason in the last column.</summary>
    public static string ResultsCsv(IReadOnlyList<string> variedKeys, IReadOnlyList<SweepRow> rows)
    {
        var sb = new StringBuilder();
        sb.Append(string.Join(",", new[] { "run" }.Concat(variedKeys).Concat(["seed", "best_val_macro_f1", "best_val_mask_f1",
            "best_val_gender_f1", "best_val_age_f1", "best_epoch", "train_seconds", "train_images_per_second",
            "eval_macro_f1", "eval_mask_f1", "eval_gender_f1", "eval_age_f1", "failure"]).Select(Csv))).Append('\n');
        foreach (var r in rows)
        {
            string[] scores = r.Failure is null
                ? [F(r.MacroF1), F(r.MaskF1), F(r.GenderF1), F(r.AgeF1), r.BestEpoch.ToString(CultureInfo.InvariantCulture),
                    F(r.Seconds), F(r.ImagesPerSecond)]
                : ["", "", "", "", "", "", ""];
            sb.Append(string.Join(",", new[] { r.Name }.Concat(r.Values).Append(r.Seed.ToString(CultureInfo.InvariantCulture))
                .Concat(scores).Concat([F(r.EvalMacroF1), F(r.EvalMaskF1), F(r.EvalGenderF1), F(r.EvalAgeF1), r.Failure ?? ""])
                .Select(Csv))).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>The table of summary.md (and of the terminal): header cells, then one row per setting.</summary>
    public static (string[] Header, List<string[]> Rows) SummaryTable(IReadOnlyList<string> variedKeys, IReadOnlyList<SettingSummary> settings)
    {
        // The eval column appears only where some run was scored on eval answers.
        bool eval = settings.Any(s => s.EvalMacroF1 is not null);
        var header = variedKeys.Concat(["seeds", "val macro F1", "mask F1", "gender F1", "age F1"])
            .Concat(eval ? ["eval macro F1"] : []).Concat(["s / run", "vs best"]).ToArray();
        var rows = settings.Select(s => s.Values.Concat([s.Seeds.ToString(CultureInfo.InvariantCulture), s.MacroF1.ToString(),
            s.MaskF1?.ToString() ?? "", s.GenderF1?.ToString() ?? "", s.AgeF1?.ToString() ?? ""])
            .Concat(eval ? [s.EvalMacroF1?.ToString() ?? ""] : [])
            .Concat([s.Seconds.ToString("F0", CultureInfo.InvariantCulture), MarkText(s.Mark)]).ToArray()).ToList();
        return (header, rows);
    }

    public static string SummaryMarkdown(IReadOnlyList<string> variedKeys, IReadOnlyList<SettingSummary> settings, int plannedRuns,
        IReadOnlyList<SweepRow>? failed = null)
    {
        var (header, rows) = SummaryTable(variedKeys, settings);
        var sb = new StringBuilder();
        int done = settings.Sum(s => s.Seeds);
        sb.Append("# Sweep summary\n\n");
        sb.Append($"{done} of {plannedRuns} runs finished{(failed is { Count: > 0 } ? $", {failed.Count} failed (listed below, left out of the table)" : "")}. ");
        sb.Append("Best validation macro F1 per run, mean ± sample standard deviation over seeds; ");
        sb.Append("settings from best to worst mean. `≈ best`: the difference from the best mean is within the seed spread ");
        sb.Append("(best mean - mean <= best std + own std); with one seed no setting is marked. ");
        sb.Append($"{SweepPlan.NotSet}: the setting leaves that key at the base value (sweep.yaml; results.csv gives every value).");
        if (settings.Any(s => s.EvalMacroF1 is not null))
            sb.Append(" `eval macro F1`: each run's submission for the eval/ photos (people no run trained or validated on), scored on answers.csv.");
        sb.Append("\n\n");
        static string Cell(string c) => c.Replace("|", "\\|");
        sb.Append("| ").Append(string.Join(" | ", header.Select(Cell))).Append(" |\n");
        sb.Append("|").Append(string.Concat(header.Select(_ => "---|"))).Append('\n');
        foreach (var row in rows) sb.Append("| ").Append(string.Join(" | ", row.Select(Cell))).Append(" |\n");
        if (failed is { Count: > 0 })
        {
            sb.Append("\n## Failed runs\n\n");
            foreach (var f in failed) sb.Append($"- `{f.Name}`: {f.Failure}\n");
        }
        return sb.ToString();
    }

    /// <summary>Whether a run directory holds nothing, an interrupted run, a finished one, or one that diverged.</summary>
    public static RunState StateOf(RunDirectory dir, TrainConfig config)
    {
        // Resuming a diverged run restores its weights and RNG state and diverges again at the same batch.
        if (File.Exists(dir.FailureFile)) return RunState.Failed;
        var summary = ReadSummarySafe(dir);
        if (summary is not null && (summary.EpochsRun == config.Epochs || summary.StoppedEarly)) return RunState.Finished;
        return File.Exists(dir.LastCheckpoint) ? RunState.Unfinished : RunState.NotStarted;
    }

    static TrainSummary? ReadSummarySafe(RunDirectory dir)
    {
        try { return dir.ReadSummary(); }
        catch (System.Text.Json.JsonException) { return null; }
    }

    // ---- running ----

    /// <summary>Runs (or skips) every run in order; throws <see cref="OperationCanceledException"/> when cancelled.</summary>
    public IReadOnlyList<SweepRow> Run(SweepSpec spec, CancellationToken ct = default)
    {
        Directory.CreateDirectory(OutDir);
        RunDirectory.WriteAllTextAtomic(Path.Combine(OutDir, SweepFile), spec.ToYaml());

        var rows = new List<SweepRow>();
        var loaded = new Dictionary<string, TrainingData>();
        var evalCaches = new Data.ImageCaches();
        var predicting = new SyncProgress<(int Done, int Total)>(p => observer.Progress("predicting eval", p.Done, p.Total));
        for (int i = 0; i < plan.Runs.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var run = plan.Runs[i];
            var dir = new RunDirectory(Path.Combine(OutDir, run.Name));
            CheckSameConfig(dir, run);
            var state = StateOf(dir, run.Config);
            sweepObserver.RunStarting(run, i, plan.Runs.Count, state);

            void RecordFailure(string reason)
            {
                rows.Add(plan.FailedRowOf(run, reason));
                WriteReports(rows);
                sweepObserver.RunFailed(run, i, plan.Runs.Count, reason);
            }

            TrainSummary summary;
            bool scoredNow = false;
            if (state == RunState.Failed)
            {
                RecordFailure(File.ReadAllText(dir.FailureFile).Trim());
                continue;
            }
            if (state == RunState.Finished)
            {
                summary = dir.ReadSummary()!;
                // A run finished before it was scored (killed while predicting, or swept before sweeps scored) is
                // scored now, where its data (still) has an eval set.
                if (summary.Submission is null && summary.Data is { } data && Directory.Exists(data))
                {
                    (summary, var prediction) = Evaluation.EvalSet.PredictRun(dir, summary, tta, predicting, ct, evalCaches);
                    scoredNow = prediction is not null;
                }
            }
            else
            {
                var c = run.Config;
                if (c.Threads > 0) TorchSharp.torch.set_num_threads(c.Threads);
                dir.Create();
                if (state == RunState.NotStarted || !dir.HasConfig) RunDirectory.WriteAllTextAtomic(dir.ConfigFile, c.ToYaml());
                var key = string.Join("|", c.Data ?? $"default:{c.SynthPeople}:{c.SynthEvalPeople}", c.ImageSize, c.SkipBad);
                if (!loaded.TryGetValue(key, out var photos)) loaded[key] = photos = TrainingData.Load(c, observer, ct);
                var data = photos.Resplit(c);
                data.WriteSplit(dir.SplitFile);
                // Each run's peak_memory_mb is its own, not the largest model's trained earlier in the sweep.
                PeakMemory.Reset();
                try
                {
                    summary = new Trainer(c, dir, observer).Train(data, ct, resume: state == RunState.Unfinished);
                }
                catch (TrainingStoppedException e)
                {
                    RunDirectory.WriteAllTextAtomic(dir.FailureFile, e.Message + "\n");
                    RecordFailure(e.Message);
                    continue;
                }
                summary = Evaluation.EvalSet.PredictRun(dir, summary, tta, predicting, ct, evalCaches).Summary;
            }

            rows.Add(plan.RowOf(run, summary));
            WriteReports(rows);
            sweepObserver.RunFinished(run, i, plan.Runs.Count, summary, skipped: state == RunState.Finished && !scoredNow);
        }
        return rows;
    }

    void WriteReports(IReadOnlyList<SweepRow> rows)
    {
        RunDirectory.WriteAllTextAtomic(Path.Combine(OutDir, ResultsFile), ResultsCsv(plan.VariedKeys, rows));
        RunDirectory.WriteAllTextAtomic(Path.Combine(OutDir, SummaryFile),
            SummaryMarkdown(plan.VariedKeys, Summarize(rows), plan.Runs.Count, rows.Where(r => r.Failure is not null).ToList()));
    }

    /// <summary>A run folder trained with another config (the sweep file changed) must not be skipped or resumed as if it were this run.</summary>
    static void CheckSameConfig(RunDirectory dir, SweepRun run)
    {
        if (!dir.HasConfig) return;
        var had = TrainConfig.Load(dir.ConfigFile).ToMap();
        var want = run.Config.ToMap();
        var differs = want.Keys.FirstOrDefault(k => had.GetValueOrDefault(k) != want[k]);
        if (differs is not null)
            throw new MaskLabInputException($"'{dir.Path}' was trained with {differs}={had.GetValueOrDefault(differs)}, not {want[differs]}: the sweep changed; use another --out");
    }
}
