using System.Globalization;

namespace MaskLab.Experiments;

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

/// <summary>The settings of a sweep over their seeds: mean ± std, ranked, and marked where the seeds do not separate them from the best.</summary>
public static class SweepStatistics
{
    /// <summary>Mean and sample (n - 1) standard deviation; one value has a deviation of 0.</summary>
    public static MeanStd Stats(IReadOnlyList<double> values)
    {
        var (mean, std) = Statistics.MeanStd(values);
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
}
