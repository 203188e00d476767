using System.Globalization;
using System.Text;

namespace MaskLab.Experiments;

/// <summary>A sweep's results as files and tables: results.csv (every run) and summary.md (every setting over its seeds).</summary>
public static class SweepReport
{
    public static string MarkText(SweepMark mark) => mark switch
    {
        SweepMark.Best => "best",
        SweepMark.WithinSpread => "≈ best",
        _ => "",
    };

    static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    static string F(double? v) => v is { } x ? F(x) : "";

    /// <summary>results.csv: one row per run that ended; a failed run has empty scores and its reason in the last column.</summary>
    public static string ResultsCsv(IReadOnlyList<string> variedKeys, IReadOnlyList<SweepRow> rows)
    {
        string[] header = ["run", .. variedKeys, "seed", "best_val_macro_f1", "best_val_mask_f1",
            "best_val_gender_f1", "best_val_age_f1", "best_epoch", "train_seconds", "train_images_per_second",
            "eval_macro_f1", "eval_mask_f1", "eval_gender_f1", "eval_age_f1", "failure"];
        return CsvText.Format(header, rows.Select(r =>
        {
            string[] scores = r.Failure is null
                ? [F(r.MacroF1), F(r.MaskF1), F(r.GenderF1), F(r.AgeF1), r.BestEpoch.ToString(CultureInfo.InvariantCulture),
                    F(r.Seconds), F(r.ImagesPerSecond)]
                : ["", "", "", "", "", "", ""];
            return (IReadOnlyList<string>)[r.Name, .. r.Values, r.Seed.ToString(CultureInfo.InvariantCulture), .. scores,
                F(r.EvalMacroF1), F(r.EvalMaskF1), F(r.EvalGenderF1), F(r.EvalAgeF1), r.Failure ?? ""];
        }));
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
}
