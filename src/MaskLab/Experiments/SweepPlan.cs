using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MaskLab.Runs;

namespace MaskLab.Experiments;

/// <summary>One training run of a sweep: a setting (its overrides) at one seed, in DIR/<see cref="Name"/>.</summary>
public sealed record SweepRun(int SettingIndex, IReadOnlyList<KeyValuePair<string, string>> Overrides, int Seed, string Name, RunConfig Config);

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
    public SweepRow RowOf(SweepRun run, RunSummary summary)
    {
        var (t, e) = (summary.Training, summary.Eval);
        return new(run.SettingIndex, ValuesOf(run), run.Seed, run.Name, t.BestValMacroF1,
            t.BestValMaskF1, t.BestValGenderF1, t.BestValAgeF1, t.BestEpoch, t.TrainSeconds, t.TrainImagesPerSecond,
            e?.MacroF1, e?.MaskF1, e?.GenderF1, e?.AgeF1) { Labels = LabelsOf(run) };
    }

    /// <summary>The results.csv row of a run that failed for <paramref name="reason"/>.</summary>
    public SweepRow FailedRowOf(SweepRun run, string reason) => SweepRow.Failed(run, ValuesOf(run), reason) with { Labels = LabelsOf(run) };

    /// <summary>
    /// The settings (the grid's product in the order its keys are written, last key fastest, then each entry of
    /// runs; the base alone when neither is given) times the seeds, with their configs built and validated.
    /// </summary>
    public static SweepPlan Expand(SweepSpec spec)
    {
        // Counted before anything is built: a grid of ten keys of ten values is 10^10 runs, which would fill the memory.
        double count = spec.Grid.Count == 0 && spec.Runs.Count == 0 ? 1 : spec.Runs.Count;
        if (spec.Grid.Count > 0) count += spec.Grid.Aggregate(1.0, (product, key) => product * key.Value.Count);
        count *= Math.Max(1, spec.Seeds.Count);
        if (count > MaxRuns)
        {
            var parts = new List<string>();
            if (spec.Grid.Count > 0) parts.Add(string.Join(" x ", spec.Grid.Select(g => $"{g.Value.Count:#,0} {g.Key}")) + " grid settings");
            if (spec.Runs.Count > 0) parts.Add($"{spec.Runs.Count:#,0} listed runs");
            if (parts.Count == 0) parts.Add("the base setting");
            var seeds = Math.Max(1, spec.Seeds.Count);
            throw new MaskLabInputException(
                $"the sweep has {count:#,0} runs ({string.Join(" + ", parts)}, each at {seeds:#,0} seed{(seeds == 1 ? "" : "s")}); " +
                $"a sweep holds at most {MaxRuns:N0}: split it or narrow the grid");
        }
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
                var config = RunConfig.FromMap(map, label.Length > 0 ? $"sweep setting {label}" : "sweep base");
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

    /// <summary>The most runs one sweep may hold: far beyond what can be trained, far below what would exhaust the memory.</summary>
    public const int MaxRuns = 10_000;

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
}
