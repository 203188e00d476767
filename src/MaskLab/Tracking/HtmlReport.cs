using System.Globalization;
using System.Net;
using System.Text;
using MaskLab.Evaluation;
using MaskLab.Runs;
using SkiaSharp;

namespace MaskLab.Tracking;

/// <summary>
/// One self-contained HTML page (pictures embedded as base64 PNG / JPEG, no outside links) about one run or a
/// comparison of several. Each section carries an id (curves, confusion, per-class, per-attribute, gallery,
/// comparison, overlay, seed-spread, metadata) so tests and readers can find it.
/// </summary>
public static class HtmlReport
{
    public const int GalleryPhotos = 12;

    public static void Write(string file, IReadOnlyList<RunInfo> runs, string? title = null) =>
        AtomicFile.WriteText(file, w => w.Write(Build(runs, title)));

    public static string Build(IReadOnlyList<RunInfo> runs, string? title = null)
    {
        if (runs.Count == 0) throw new MaskLabInputException("no runs to report on");
        title ??= runs.Count == 1 ? $"MaskLab run {runs[0].Name}" : $"MaskLab: {runs.Count} runs compared";
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(title)).Append("</title>\n<style>")
            .Append(Css).Append("</style></head><body>\n<h1>").Append(E(title)).Append("</h1>\n");
        h.Append("<p class=\"sub\">Generated ").Append(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))
            .Append(" from ").Append(runs.Count).Append(runs.Count == 1 ? " run" : " runs").Append(".</p>\n");

        if (runs.Count > 1)
        {
            var cmp = new RunComparison(runs);
            Comparison(h, cmp);
            Overlay(h, runs);
            Spread(h, cmp);
            var best = runs.Where(r => r.BestMacroF1 is not null).MaxBy(r => r.BestMacroF1!.Value) ?? runs[0];
            h.Append("<h2 class=\"divider\">Best run: ").Append(E(best.Name)).Append("</h2>\n");
            Single(h, best);
        }
        else Single(h, runs[0]);

        h.Append("<script>").Append(SortScript).Append("</script>\n</body></html>\n");
        return h.ToString();
    }

    static void Single(StringBuilder h, RunInfo run)
    {
        Overview(h, run);
        var ep = run.Epochs;
        double[] x = ep.Select(e => (double)e.Epoch).ToArray();
        h.Append("<section id=\"curves\"><h2>Training curves</h2>\n");
        if (ep.Count == 0) h.Append("<p>No epochs recorded (metrics.jsonl is missing or empty).</p>");
        else
        {
            Img(h, ReportPlots.Curves("Loss", "loss", [("train", x, ep.Select(e => e.TrainLoss).ToArray()), ("validation", x, ep.Select(e => e.ValLoss).ToArray())]), "loss curves");
            Img(h, ReportPlots.Curves("Validation macro F1", "macro F1", [("macro F1", x, ep.Select(e => e.ValMacroF1).ToArray()), ("accuracy", x, ep.Select(e => e.ValAccuracy).ToArray())]), "macro F1 curve");
            Img(h, ReportPlots.Curves("Learning rate", "learning rate", [("lr", x, ep.Select(e => e.Lr).ToArray())]), "learning-rate curve");
        }
        h.Append("</section>\n");

        h.Append("<section id=\"confusion\"><h2>Confusion matrix</h2>\n");
        if (run.Confusion is { } cm)
        {
            var names = Enumerable.Range(0, cm.GetLength(0)).Select(run.ClassName).ToList();
            Img(h, ReportPlots.ConfusionHeatmap(cm, names), "confusion matrix heat map");
            h.Append("<p class=\"note\">Rows are the true class, columns the prediction; numbers are photo counts, colour the share of the true class.</p>");
        }
        else h.Append("<p>No confusion.csv in this run.</p>");
        h.Append("</section>\n");

        h.Append("<section id=\"per-class\"><h2>Per-class F1</h2>\n");
        if (run.PerClass.Count > 0)
            Img(h, ReportPlots.Bars("F1 per class (best epoch)", run.PerClass.Select(p => $"{p.Name} (n={p.Support})").ToList(), run.PerClass.Select(p => p.F1).ToList()), "per-class F1 bars");
        else h.Append("<p>No per_class.csv in this run.</p>");
        h.Append("</section>\n");

        h.Append("<section id=\"per-attribute\"><h2>Per-attribute F1</h2>\n");
        if (ep.Any(e => e.ValMaskF1 is not null))
        {
            var b = run.BestEpoch!;
            h.Append("<table class=\"small\"><thead><tr><th>attribute</th><th>F1 at best epoch</th></tr></thead><tbody>");
            foreach (var (name, v) in new[] { ("mask", b.ValMaskF1), ("gender", b.ValGenderF1), ("age", b.ValAgeF1) })
                h.Append("<tr><td>").Append(name).Append("</td><td>").Append(N(v)).Append("</td></tr>");
            h.Append("</tbody></table>\n");
            Img(h, ReportPlots.Curves("Per-attribute F1", "F1", [
                ("mask", x, ep.Select(e => e.ValMaskF1 ?? double.NaN).ToArray()),
                ("gender", x, ep.Select(e => e.ValGenderF1 ?? double.NaN).ToArray()),
                ("age", x, ep.Select(e => e.ValAgeF1 ?? double.NaN).ToArray())]), "per-attribute F1 curves");
        }
        else h.Append("<p>The classes of this run are not the 18 task classes, so there are no attributes to score.</p>");
        h.Append("</section>\n");

        Gallery(h, run);
        Metadata(h, run);
    }

    static void Overview(StringBuilder h, RunInfo run)
    {
        var s = run.Summary;
        h.Append("<section id=\"overview\"><h2>Overview</h2><table class=\"small\"><tbody>");
        Row(h, "run directory", run.Dir);
        Row(h, "model", s?.Model ?? Cfg(run, "model"));
        Row(h, "loss", s?.Loss ?? Cfg(run, "loss"));
        Row(h, "image size", s?.ImageSize ?? Cfg(run, "image_size"));
        Row(h, "best val macro F1", N(run.BestMacroF1));
        Row(h, "best epoch / epochs run", s is null ? "" : $"{s.BestEpoch} / {s.EpochsRun}");
        if (run.Eval?.MacroF1 is { } ev)
            Row(h, "eval macro F1", CeilingCache.Read(s?.Data) is { MacroF1: > 0 } c
                ? $"{N(ev)} ({100 * ev / c.MacroF1:0} % of the set's ceiling, {N(c.MacroF1)}: masklab ceiling)"
                : N(ev));
        if (s is not null) Row(h, "train images/s", s.TrainImagesPerSecond.ToString("0.0", CultureInfo.InvariantCulture));
        h.Append("</tbody></table></section>\n");
    }

    static void Gallery(StringBuilder h, RunInfo run)
    {
        h.Append("<section id=\"gallery\"><h2>Most confidently wrong validation photos</h2>\n");
        var wrong = ValPredictions.ConfidentlyWrong(ValPredictions.Read(new RunDirectory(run.Dir).ValPredictionsFile), GalleryPhotos);
        if (wrong.Count == 0) h.Append("<p>No wrong validation predictions recorded (val_predictions.csv is missing, or every photo was right).</p>");
        else
        {
            h.Append("<div class=\"gallery\">");
            foreach (var w in wrong)
            {
                h.Append("<figure>");
                if (Thumbnail(w.Path) is { } jpg) h.Append("<img class=\"photo\" alt=\"").Append(E(Path.GetFileName(w.Path))).Append("\" src=\"data:image/jpeg;base64,").Append(Convert.ToBase64String(jpg)).Append("\">");
                else h.Append("<div class=\"missing\">photo not found</div>");
                h.Append("<figcaption><span class=\"truth\">true: ").Append(E(run.ClassName(w.Truth))).Append("</span><br><span class=\"pred\">predicted: ")
                    .Append(E(run.ClassName(w.Prediction))).Append(" (").Append(w.Confidence.ToString("0.00", CultureInfo.InvariantCulture)).Append(")</span><br><span class=\"path\">")
                    .Append(E(ShortPath(w.Path))).Append("</span></figcaption></figure>");
            }
            h.Append("</div>");
        }
        h.Append("</section>\n");
    }

    static void Metadata(StringBuilder h, RunInfo run)
    {
        h.Append("<section id=\"metadata\"><h2>What made this run</h2>\n");
        var m = run.Metadata;
        if (m is not null)
        {
            h.Append("<table class=\"small\"><tbody>");
            Row(h, "start / end", $"{m["start_time"]} / {m["end_time"]}");
            Row(h, "git commit", $"{m["git"]?["commit"]}{(m["git"]?["dirty"]?.GetValue<bool>() == true ? " (uncommitted changes)" : "")}");
            Row(h, "data", $"{m["data"]?["files"]} files, sha256 {m["data"]?["sha256"]?.ToString()[..Math.Min(16, m["data"]?["sha256"]?.ToString().Length ?? 0)]}…");
            Row(h, "machine", $"{m["machine"]?["cpu"]}, {m["machine"]?["logical_cores"]} cores, {m["machine"]?["torch_threads"]} threads, {(m["machine"]?["memory_bytes"]?.GetValue<long>() ?? 0) / (1L << 30)} GiB");
            Row(h, "packages", string.Join(", ", (m["packages"]?.AsObject() ?? []).Select(p => $"{p.Key} {p.Value}")));
            // What the run's auto settings came to on its data and machine, and why.
            foreach (var (key, label) in new[] { ("face_crop_choice", "face crop"), ("precision", "precision"), ("channels_last", "channels-last layout") })
                if (m[key] is System.Text.Json.Nodes.JsonObject choice)
                    Row(h, label, $"{choice["resolved"]}: {choice["reason"]}");
            h.Append("</tbody></table>\n");
        }
        h.Append("<details><summary>Resolved config</summary><table class=\"small\"><tbody>");
        foreach (var (k, v) in run.Config.OrderBy(p => p.Key, StringComparer.Ordinal)) Row(h, k, v ?? "");
        h.Append("</tbody></table></details></section>\n");
    }

    static void Comparison(StringBuilder h, RunComparison cmp)
    {
        h.Append("<section id=\"comparison\"><h2>Comparison</h2><p class=\"note\">Click a column header to sort.</p>\n<table class=\"sortable\"><thead><tr><th>run</th>");
        foreach (var k in cmp.Keys) h.Append("<th>").Append(E(k)).Append("</th>");
        foreach (var k in RunComparison.ScoreHeaders) h.Append("<th>").Append(E(k)).Append("</th>");
        h.Append("</tr></thead><tbody>\n");
        foreach (var r in cmp.Rows)
        {
            h.Append("<tr><td>").Append(E(r.Run.Name)).Append("</td>");
            foreach (var v in r.Settings) h.Append("<td>").Append(E(v ?? "")).Append("</td>");
            foreach (var v in RunComparison.ScoreCells(r)) h.Append("<td class=\"num\">").Append(E(v)).Append("</td>");
            h.Append("</tr>\n");
        }
        h.Append("</tbody></table></section>\n");
    }

    static void Overlay(StringBuilder h, IReadOnlyList<RunInfo> runs)
    {
        h.Append("<section id=\"overlay\"><h2>Curves of every run</h2>\n");
        var shown = runs.Where(r => r.Epochs.Count > 0).ToList();
        Img(h, ReportPlots.Curves("Validation macro F1", "macro F1",
            shown.Select(r => (r.Name, r.Epochs.Select(e => (double)e.Epoch).ToArray(), r.Epochs.Select(e => e.ValMacroF1).ToArray()))), "overlaid macro F1 curves");
        Img(h, ReportPlots.Curves("Training loss", "loss",
            shown.Select(r => (r.Name, r.Epochs.Select(e => (double)e.Epoch).ToArray(), r.Epochs.Select(e => e.TrainLoss).ToArray()))), "overlaid loss curves");
        h.Append("</section>\n");
    }

    static void Spread(StringBuilder h, RunComparison cmp)
    {
        h.Append("<section id=\"seed-spread\"><h2>Seed spread</h2>\n");
        if (cmp.Spreads.Count == 0)
            h.Append("<p>No setting was run with more than one seed: differences between runs may be chance.</p>");
        else
        {
            h.Append("<table class=\"sortable\"><thead><tr><th>setting</th><th>seeds</th><th>runs</th><th>mean</th><th>std</th><th>min</th><th>max</th></tr></thead><tbody>\n");
            foreach (var s in cmp.Spreads)
                h.Append("<tr><td>").Append(E(s.Setting)).Append("</td><td>").Append(E(string.Join(" ", s.Seeds))).Append("</td><td class=\"num\">").Append(s.Scores.Count)
                    .Append("</td><td class=\"num\">").Append(N(s.Mean)).Append("</td><td class=\"num\">").Append(N(s.Std))
                    .Append("</td><td class=\"num\">").Append(N(s.Min)).Append("</td><td class=\"num\">").Append(N(s.Max)).Append("</td></tr>\n");
            h.Append("</tbody></table>\n");
            Img(h, ReportPlots.Strip("Best val macro F1 by setting, one dot per seed", cmp.Spreads.Select(s => (s.Setting, s.Scores)).ToList()), "seed spread plot");
        }
        h.Append("</section>\n");
    }

    static string ShortPath(string p)
    {
        var parts = p.Replace('\\', '/').Split('/');
        return string.Join('/', parts.Skip(Math.Max(0, parts.Length - 2)));
    }

    static byte[]? Thumbnail(string path)
    {
        try
        {
            if (!File.Exists(path)) return null;
            using var src = SKBitmap.Decode(path);
            if (src is null) return null;
            int w = 144, h = Math.Max(1, (int)Math.Round((double)src.Height * w / src.Width));
            using var small = src.Resize(new SKImageInfo(w, h), new SKSamplingOptions(SKCubicResampler.Mitchell));
            using var img = SKImage.FromBitmap(small);
            using var data = img.Encode(SKEncodedImageFormat.Jpeg, 85);
            return data.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    static string Cfg(RunInfo r, string key) => r.Config.TryGetValue(key, out var v) ? v ?? "" : "";

    static void Row(StringBuilder h, string k, string v) => h.Append("<tr><th>").Append(E(k)).Append("</th><td>").Append(E(v)).Append("</td></tr>");

    static void Img(StringBuilder h, byte[] png, string alt) =>
        h.Append("<img class=\"plot\" alt=\"").Append(E(alt)).Append("\" src=\"data:image/png;base64,").Append(Convert.ToBase64String(png)).Append("\">\n");

    static string N(double? v) => v is { } d && !double.IsNaN(d) ? d.ToString("0.0000", CultureInfo.InvariantCulture) : "";

    static string E(string s) => WebUtility.HtmlEncode(s);

    const string Css = """
body{font-family:system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:24px auto;max-width:1280px;color:#222;padding:0 16px}
h1{margin-bottom:4px}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}h2.divider{border-bottom:3px solid #888}
.sub,.note{color:#666;font-size:14px}
img.plot{max-width:100%;margin:6px 8px 6px 0;border:1px solid #eee;vertical-align:top}
table{border-collapse:collapse;font-size:14px;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left}
thead th{background:#f2f2f2;cursor:pointer;user-select:none}td.num{text-align:right;font-variant-numeric:tabular-nums}
table.small th{background:#fafafa;font-weight:600}
th.asc::after{content:" \25B2"}th.desc::after{content:" \25BC"}
.gallery{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;width:160px;font-size:12px}
figure img.photo{width:144px;border:3px solid #c33;display:block}.truth{color:#070}.pred{color:#b00}.path{color:#888}
.missing{width:144px;height:100px;background:#eee;display:flex;align-items:center;justify-content:center}
""";

    const string SortScript = """
document.querySelectorAll('table.sortable').forEach(function(t){
 t.querySelectorAll('thead th').forEach(function(th,i){th.addEventListener('click',function(){
  var asc=!th.classList.contains('asc');t.querySelectorAll('thead th').forEach(function(x){x.classList.remove('asc','desc')});
  th.classList.add(asc?'asc':'desc');var b=t.tBodies[0];var rows=Array.from(b.rows);
  rows.sort(function(a,c){var x=a.cells[i].textContent,y=c.cells[i].textContent,nx=parseFloat(x),ny=parseFloat(y);
   var r=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);return asc?r:-r;});
  rows.forEach(function(r){b.appendChild(r)});});});});
""";
}
