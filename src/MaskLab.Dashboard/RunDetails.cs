using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using MaskLab.Data.Layout;
using MaskLab.Evaluation;
using MaskLab.Runs;

namespace MaskLab.Dashboard;

/// <summary>One photo's prediction as a run recorded it: validation predictions of a run, out-of-fold ones of a k-fold root.</summary>
public sealed record PhotoPrediction(string Path, int Truth, int Prediction, double Confidence, float[] Probabilities);

/// <summary>
/// What the run page shows, read from the run's files: curves (one series per fold for a k-fold root), per-class F1,
/// the confusion matrix and the photos behind each cell, the most confidently wrong photos, config and metadata.
/// Every part is optional; a part that does not read is reported in <c>problems</c> and the rest still shows.
/// </summary>
public sealed class RunDetails(RunCatalog catalog, ServedRoots roots)
{
    public const int WrongPhotos = 24;
    public const int CellPhotos = 60;

    /// <summary>Each predictions file read once per change, however many requests ask for it at once (see <see cref="RunFiles.ReadMetrics"/>).</summary>
    readonly ConcurrentDictionary<string, (long Stamp, Lazy<(IReadOnlyList<PhotoPrediction> Rows, string Source, string? Error)> Read)> _predictions = new(StringComparer.Ordinal);

    static double? N(double? v) => v is { } d && double.IsFinite(d) ? d : null;

    public static object Epoch(EpochRecord e) => new
    {
        epoch = e.Epoch, trainLoss = N(e.TrainLoss), valLoss = N(e.ValLoss), valF1 = N(e.ValMacroF1), valAccuracy = N(e.ValAccuracy),
        valMaskF1 = N(e.ValMaskF1), valGenderF1 = N(e.ValGenderF1), valAgeF1 = N(e.ValAgeF1), lr = N(e.Lr),
        imagesPerSecond = N(e.TrainImagesPerSecond), seconds = N(e.Seconds),
    };

    /// <summary>A run's curves: its epochs, and where metrics.jsonl is torn, the line that does not read.</summary>
    public static object Series(string id, string name, RunDirectory run)
    {
        var m = RunFiles.ReadMetrics(run);
        return new
        {
            id, name, epochs = m.Epochs.Select(Epoch).ToArray(), torn = m.Torn ? new { line = m.BadLine, reason = m.BadReason } : null,
            thinnedFrom = m.Thinned ? m.Total : (int?)null,
        };
    }

    /// <summary>The class names a run's files use (summary.json's, else the 18 task classes).</summary>
    public static IReadOnlyList<string> ClassNames(RunSummary? summary, int classes) =>
        summary?.Training.ClassNames is { Count: > 0 } names ? names
        : classes == TaskClasses.Count || classes == 0 ? TaskClasses.Names
        : Enumerable.Range(0, classes).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    public object? Build(string id)
    {
        var rows = catalog.RowsUnder(id);
        var row = rows.FirstOrDefault(r => r.Id == id);
        if (row is null || row.Kind == EntryKind.Sweep) return null;
        var run = new RunDirectory(row.Dir);
        var problems = new List<string>();
        var summary = RunFiles.ReadSummary(run, out var summaryError);
        if (summaryError is not null) problems.Add(summaryError);
        var folds = rows.Where(r => r.Parent == id && r.Kind == EntryKind.Fold).OrderBy(r => r.Id, StringComparer.Ordinal).ToList();

        var series = row.Kind == EntryKind.KFold
            ? folds.Select(f => Series(f.Id, Path.GetFileName(f.Dir), new RunDirectory(f.Dir))).ToArray()
            : [Series(id, Path.GetFileName(row.Dir), run)];

        var (predictions, source, predError) = Predictions(row);
        if (predError is not null) problems.Add(predError);
        int classes = predictions.Count > 0 ? predictions[0].Probabilities.Length : summary?.Training.Classes ?? 0;
        var names = ClassNames(summary, classes);

        long[,]? confusion = null;
        IReadOnlyList<(string Name, double F1, long Support)> perClass = [];
        if (row.Kind == EntryKind.KFold)
        {
            if (predictions.Count > 0)
            {
                confusion = Metrics.Confusion(predictions.Select(p => p.Truth).ToArray(), predictions.Select(p => p.Prediction).ToArray(), classes);
                perClass = Metrics.PerClass(confusion).Select(s => (names.ElementAtOrDefault(s.Class) ?? s.Class.ToString(System.Globalization.CultureInfo.InvariantCulture), s.F1, s.Support)).ToList();
            }
        }
        else
        {
            try
            {
                var (cm, cmNames) = ConfusionCsv.Read(run.ConfusionFile);
                confusion = cm;
                if (cm is not null && cmNames.Count > 0 && summary is null) names = cmNames;
            }
            catch (MaskLabInputException e) { problems.Add(e.Message); }
            try { perClass = PerClassCsv.Read(run.PerClassFile); }
            catch (MaskLabInputException e) { problems.Add(e.Message); }
        }

        var wrong = predictions.Where(p => p.Truth != p.Prediction).OrderByDescending(p => p.Confidence)
            .ThenBy(p => p.Path, StringComparer.Ordinal).Take(WrongPhotos).Select(p => Photo(p, names)).ToArray();

        var parentDir = row.Parent is null ? null : catalog.DirOf(row.Parent);
        return new
        {
            row,
            parentKind = parentDir is null ? null : File.Exists(Path.Combine(parentDir, "sweep.yaml")) ? "sweep" : "kFold",
            dir = row.Dir,
            config = RunFiles.ReadConfig(run.ConfigFile),
            summary = SummaryJson(run),
            metadata = RunFiles.ReadMetadata(run),
            series,
            folds,
            classNames = names,
            confusion = confusion is null ? null : ToJagged(confusion),
            perClass = perClass.Select(p => new { name = p.Name, f1 = N(p.F1), support = p.Support }).ToArray(),
            predictionsSource = source,
            wrong,
            problems,
            files = RunFilesList(run),
        };
    }

    /// <summary>The photos of one confusion cell (truth <paramref name="truth"/>, predicted <paramref name="predicted"/>), most confident first.</summary>
    public object? Cell(string id, int truth, int predicted)
    {
        var row = catalog.Row(id);
        if (row is null || row.Kind == EntryKind.Sweep) return null;
        var (predictions, source, error) = Predictions(row);
        var summary = RunFiles.ReadSummary(new RunDirectory(row.Dir), out _);
        var names = ClassNames(summary, predictions.Count > 0 ? predictions[0].Probabilities.Length : 0);
        var all = predictions.Where(p => p.Truth == truth && p.Prediction == predicted).OrderByDescending(p => p.Confidence)
            .ThenBy(p => p.Path, StringComparer.Ordinal).ToList();
        return new
        {
            truth, predicted, truthName = names.ElementAtOrDefault(truth), predictedName = names.ElementAtOrDefault(predicted),
            count = all.Count, source, error,
            photos = all.Take(CellPhotos).Select(p => Photo(p, names)).ToArray(),
        };
    }

    object Photo(PhotoPrediction p, IReadOnlyList<string> names) => new
    {
        url = roots.UrlOf(p.Path),
        name = $"{Path.GetFileName(Path.GetDirectoryName(p.Path))}/{Path.GetFileName(p.Path)}",
        truth = p.Truth, truthName = names.ElementAtOrDefault(p.Truth), predicted = p.Prediction,
        predictedName = names.ElementAtOrDefault(p.Prediction), confidence = p.Confidence,
        top = p.Probabilities.Select((v, c) => (v, c)).OrderByDescending(x => x.v).Take(3)
            .Select(x => new { name = names.ElementAtOrDefault(x.c) ?? x.c.ToString(System.Globalization.CultureInfo.InvariantCulture), p = (double)x.v }).ToArray(),
    };

    /// <summary>The predictions behind the confusion matrix: val_predictions.csv of a run, oof.csv of a k-fold root; kept until the file changes.</summary>
    (IReadOnlyList<PhotoPrediction> Rows, string Source, string? Error) Predictions(RunRow row)
    {
        var run = new RunDirectory(row.Dir);
        var file = row.Kind == EntryKind.KFold ? run.OofFile : run.ValPredictionsFile;
        var stamp = RunFiles.Stamp(file);
        if (_predictions.Count > 256) _predictions.Clear();
        var kind = row.Kind;
        var entry = _predictions.AddOrUpdate(file,
            _ => (stamp, new(() => ReadPredictions(file, kind))),
            (_, known) => known.Stamp == stamp ? known : (stamp, new(() => ReadPredictions(file, kind))));
        return entry.Read.Value;
    }

    static (IReadOnlyList<PhotoPrediction> Rows, string Source, string? Error) ReadPredictions(string file, EntryKind kind)
    {
        IReadOnlyList<PhotoPrediction> rows = [];
        string? error = null;
        try
        {
            if (!File.Exists(file)) rows = [];
            else if (kind == EntryKind.KFold)
            {
                var oof = OofFile.Read(file);
                int n = oof.Paths.Length, c = oof.Probabilities.GetLength(1);
                var list = new List<PhotoPrediction>(n);
                for (int i = 0; i < n; i++)
                {
                    var p = new float[c];
                    int top = 0;
                    for (int k = 0; k < c; k++) { p[k] = oof.Probabilities[i, k]; if (p[k] > p[top]) top = k; }
                    list.Add(new PhotoPrediction(oof.Paths[i], oof.Truth[i], top, p[top], p));
                }
                rows = list;
            }
            else
                rows = ValPredictions.Read(file).Select(v => new PhotoPrediction(v.Path, v.Truth, v.Prediction, v.Confidence,
                    v.Probabilities.Select(x => (float)x).ToArray())).ToList();
        }
        catch (Exception e) when (e is MaskLabInputException or IOException or UnauthorizedAccessException)
        {
            error = e.Message.ReplaceLineEndings(" ");
        }
        return (rows, Path.GetFileName(file), error);
    }

    static JsonObject? SummaryJson(RunDirectory run)
    {
        if (!File.Exists(run.SummaryFile) || InputFile.Problem(run.SummaryFile, 16L << 20) is not null) return null;
        try { return JsonNode.Parse(File.ReadAllText(run.SummaryFile)) as JsonObject; }
        catch (Exception e) when (e is System.Text.Json.JsonException or IOException or UnauthorizedAccessException) { return null; }
    }

    static long[][] ToJagged(long[,] m) =>
        Enumerable.Range(0, m.GetLength(0)).Select(r => Enumerable.Range(0, m.GetLength(1)).Select(c => m[r, c]).ToArray()).ToArray();

    /// <summary>The run's readable files (the raw views the page links to).</summary>
    static string[] RunFilesList(RunDirectory run) =>
        new[] { run.ConfigFile, run.SummaryFile, run.MetadataFile, run.MetricsFile, run.ConfusionFile, run.PerClassFile,
                run.ValPredictionsFile, run.OofFile, run.SplitFile, run.LabelFixesFile, run.SubmissionFile, run.ReportFile, run.FailureFile }
            .Where(File.Exists).Select(Path.GetFileName).ToArray()!;
}
