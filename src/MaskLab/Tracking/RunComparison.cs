using System.Globalization;

namespace MaskLab.Tracking;

/// <summary>One row of the comparison of runs.</summary>
public sealed record ComparisonRow(RunInfo Run, IReadOnlyList<string?> Settings, double? MacroF1, double? MaskF1,
    double? GenderF1, double? AgeF1, int? BestEpoch, int? Epochs, double? ImagesPerSecond, double? TrainSeconds);

/// <summary>The same setting run with several seeds: how far apart chance alone puts the score.</summary>
public sealed record SeedSpread(string Setting, IReadOnlyList<string> Seeds, IReadOnlyList<double> Scores)
{
    public double Mean => Scores.Average();
    public double Std => Scores.Count < 2 ? 0 : Math.Sqrt(Scores.Sum(s => (s - Mean) * (s - Mean)) / (Scores.Count - 1));
    public double Min => Scores.Min();
    public double Max => Scores.Max();
}

/// <summary>Comparison of several runs: the config keys that differ between them, and their scores.</summary>
public sealed class RunComparison
{
    /// <summary>Keys that differ for every run by construction, so they say nothing about the setting.</summary>
    static readonly HashSet<string> Incidental = new(StringComparer.Ordinal) { "data" };

    public IReadOnlyList<string> Keys { get; }
    public IReadOnlyList<ComparisonRow> Rows { get; }
    public IReadOnlyList<SeedSpread> Spreads { get; }

    public RunComparison(IReadOnlyList<RunInfo> runs)
    {
        var allKeys = runs.SelectMany(r => r.Config.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        Keys = allKeys.Where(k => !Incidental.Contains(k) && runs.Select(r => Get(r, k)).Distinct().Count() > 1).ToList();
        Rows = runs.Select(r =>
        {
            var s = r.Summary;
            var best = r.BestEpoch;
            return new ComparisonRow(r, Keys.Select(k => Get(r, k)).ToList(), r.BestMacroF1,
                s?.BestValMaskF1 ?? best?.ValMaskF1, s?.BestValGenderF1 ?? best?.ValGenderF1, s?.BestValAgeF1 ?? best?.ValAgeF1,
                s?.BestEpoch ?? best?.Epoch, s?.EpochsRun ?? (r.Epochs.Count > 0 ? r.Epochs.Count : null),
                s?.TrainImagesPerSecond ?? (r.Epochs.Count > 0 ? r.Epochs.Average(e => e.TrainImagesPerSecond) : null), s?.TrainSeconds);
        }).ToList();

        var settingKeys = Keys.Where(k => k != "seed").ToList();
        Spreads = runs.Where(r => r.BestMacroF1 is not null)
            .GroupBy(r => string.Join(", ", settingKeys.Select(k => $"{k}={Get(r, k)}")))
            .Where(g => g.Select(r => Get(r, "seed")).Distinct().Count() > 1)
            .Select(g => new SeedSpread(g.Key.Length == 0 ? "(all runs)" : g.Key, g.Select(r => Get(r, "seed") ?? "?").ToList(),
                g.Select(r => r.BestMacroF1!.Value).ToList()))
            .ToList();
    }

    static string? Get(RunInfo r, string key) => r.Config.TryGetValue(key, out var v) ? v : null;

    public static readonly string[] ScoreHeaders =
        ["best val macro F1", "mask F1", "gender F1", "age F1", "best epoch", "epochs", "train img/s", "train s"];

    /// <summary>Score cells as text, in <see cref="ScoreHeaders"/> order.</summary>
    public static string[] ScoreCells(ComparisonRow r) =>
    [
        F(r.MacroF1, "0.0000"), F(r.MaskF1, "0.0000"), F(r.GenderF1, "0.0000"), F(r.AgeF1, "0.0000"),
        r.BestEpoch?.ToString(CultureInfo.InvariantCulture) ?? "", r.Epochs?.ToString(CultureInfo.InvariantCulture) ?? "",
        F(r.ImagesPerSecond, "0.0"), F(r.TrainSeconds, "0.0"),
    ];

    static string F(double? v, string format) => v?.ToString(format, CultureInfo.InvariantCulture) ?? "";
}
