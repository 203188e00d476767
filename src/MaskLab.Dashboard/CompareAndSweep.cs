using MaskLab.Experiments;
using MaskLab.Runs;

namespace MaskLab.Dashboard;

/// <summary>The compare page: the selected runs' curves overlaid, the config keys that differ, per-class F1 side by side.</summary>
public sealed class CompareDetails(RunCatalog catalog)
{
    /// <summary>Keys that differ between any two runs by construction and say nothing about the setting.</summary>
    static readonly HashSet<string> Incidental = new(StringComparer.Ordinal) { "data" };

    public object Build(IReadOnlyList<string> ids)
    {
        var runs = new List<(RunRow Row, IReadOnlyDictionary<string, string?>? Config, object[] Series, IReadOnlyList<(string Name, double F1, long Support)> PerClass)>();
        var missing = new List<string>();
        foreach (var id in ids.Distinct(StringComparer.Ordinal))
        {
            var rows = catalog.RowsUnder(id);
            var row = rows.FirstOrDefault(r => r.Id == id);
            if (row is null || row.Kind == EntryKind.Sweep) { missing.Add(id); continue; }
            var run = new RunDirectory(row.Dir);
            object[] series = row.Kind == EntryKind.KFold
                ? rows.Where(r => r.Parent == id).OrderBy(r => r.Id, StringComparer.Ordinal)
                    .Select(f => RunDetails.Series(f.Id, $"{id}/{Path.GetFileName(f.Dir)}", new RunDirectory(f.Dir))).ToArray()
                : [RunDetails.Series(id, id, run)];
            IReadOnlyList<(string, double, long)> perClass = [];
            try { perClass = MaskLab.Evaluation.PerClassCsv.Read(run.PerClassFile); }
            catch (MaskLabInputException) { }
            runs.Add((row, RunFiles.ReadConfig(run.ConfigFile), series, perClass));
        }
        var keys = runs.SelectMany(r => r.Config?.Keys ?? []).Distinct().Order(StringComparer.Ordinal).ToList();
        string? Get(IReadOnlyDictionary<string, string?>? c, string k) => c is not null && c.TryGetValue(k, out var v) ? v : null;
        var differ = keys.Where(k => !Incidental.Contains(k) && runs.Select(r => Get(r.Config, k)).Distinct().Count() > 1).ToList();
        var classNames = runs.SelectMany(r => r.PerClass.Select(p => p.Name)).Distinct().ToList();
        return new
        {
            runs = runs.Select(r => new { row = r.Row, series = r.Series }).ToArray(),
            missing,
            configKeys = differ,
            configValues = runs.Select(r => differ.Select(k => Get(r.Config, k)).ToArray()).ToArray(),
            sameKeys = keys.Count - differ.Count,
            perClass = new
            {
                names = classNames,
                values = runs.Select(r => classNames.Select(n => r.PerClass.FirstOrDefault(p => p.Name == n) is { Name: not null } p && double.IsFinite(p.F1) ? (double?)p.F1 : null).ToArray()).ToArray(),
            },
        };
    }
}

/// <summary>
/// The sweep page: sweep.yaml's plan with each run where it stands, the settings' mean ± std over seeds (the same
/// statistics as summary.md), and every seed run.
/// </summary>
public sealed class SweepDetails(RunCatalog catalog)
{
    public object? Build(string id)
    {
        var rows = catalog.RowsUnder(id);
        var row = rows.FirstOrDefault(r => r.Id == id);
        if (row is null || row.Kind != EntryKind.Sweep) return null;
        var folder = new SweepDirectory(row.Dir);
        var members = rows.Where(r => r.Parent == id).ToDictionary(r => r.Dir, StringComparer.Ordinal);
        SweepPlan plan;
        try { plan = SweepPlan.Expand(SweepSpec.Load(folder.SpecFile)); }
        catch (MaskLabInputException e)
        {
            return new { row, dir = row.Dir, error = e.Message, variedKeys = Array.Empty<string>(), settings = Array.Empty<object>(), runs = members.Values.ToArray() };
        }

        var results = new List<SweepRow>();
        var runs = new List<object>();
        foreach (var run in plan.Runs)
        {
            var dir = folder.Run(run);
            members.TryGetValue(dir.Path, out var member);
            var summary = RunFiles.ReadSummary(dir, out _);
            var state = member?.Status ?? EntryStatus.Pending;
            if (state == EntryStatus.Finished && summary is not null) results.Add(plan.RowOf(run, summary));
            else if (state == EntryStatus.Failed) results.Add(plan.FailedRowOf(run, dir.ReadFailure() ?? member?.Problem ?? "failed"));
            runs.Add(new
            {
                id = member?.Id ?? catalog.IdOf(dir.Path), name = run.Name, setting = run.SettingIndex, seed = run.Seed,
                status = state, valF1 = member?.ValF1, evalF1 = member?.EvalF1, epochsDone = member?.EpochsDone ?? 0,
                epochsPlanned = run.Config.Epochs, problem = member?.Problem,
            });
        }
        var settings = SweepStatistics.Summarize(results);
        var labels = Enumerable.Range(0, plan.SettingCount).Select(i => plan.Runs.First(r => r.SettingIndex == i)).Select(plan.LabelsOf).ToList();
        static object MS(MeanStd? m) => m is { } x ? new { mean = x.Mean, std = x.Std, n = x.N } : null!;
        return new
        {
            row,
            dir = row.Dir,
            error = (string?)null,
            variedKeys = plan.VariedKeys,
            planned = plan.Runs.Count,
            settings = Enumerable.Range(0, plan.SettingCount).Select(i =>
            {
                var s = settings.FirstOrDefault(x => x.SettingIndex == i);
                return new
                {
                    index = i, labels = labels[i],
                    seeds = s?.Seeds ?? 0,
                    val = s is null ? null : MS(s.MacroF1), mask = MS(s?.MaskF1), gender = MS(s?.GenderF1), age = MS(s?.AgeF1),
                    eval = MS(s?.EvalMacroF1), seconds = s?.Seconds,
                    mark = s is null ? "" : SweepReport.MarkText(s.Mark),
                    rank = s is null ? (int?)null : settings.ToList().IndexOf(s) + 1,
                };
            }).ToArray(),
            runs,
        };
    }
}
