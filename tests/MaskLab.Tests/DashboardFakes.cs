using System.Globalization;
using System.Text.Json;
using MaskLab.Dashboard;
using MaskLab.Data.Layout;

namespace MaskLab.Tests;

/// <summary>
/// Run folders written the way training writes them (the library's own writers), without training: for the
/// dashboard's server tests and its benchmark-sized catalogs. Photos are tiny real JPEGs in a data folder.
/// </summary>
public static class DashboardFakes
{
    /// <summary>The address a started <c>masklab serve</c> prints ("open URL"), or null when none comes within <paramref name="wait"/>.</summary>
    public static string? AddressServed(System.Diagnostics.Process serve, TimeSpan wait)
    {
        string? url = null;
        var read = Task.Run(() =>
        {
            string? line;
            while ((line = serve.StandardOutput.ReadLine()) is not null)
                if (line.StartsWith("open ", StringComparison.Ordinal)) { url = line[5..].Trim(); return; }
        });
        return read.Wait(wait) ? url : null;
    }

    public static RunConfig Config(params string[] overrides) =>
        RunConfig.Load(null, new[] { "model=baseline", "image_size=24x32", "epochs=3", "seed=1" }.Concat(overrides));

    public static EpochRecord Epoch(int epoch, double f1) =>
        new(epoch, 2.0 / epoch, 2.2 / epoch, f1, f1 + 0.1, 0.9, 0.6 + f1 / 10, 0.4 + f1 / 10, 0.001 / epoch, 120 + epoch, 3.5);

    /// <summary>A run folder with config.yaml, metrics.jsonl (one line per F1 given), summary.json when it finished, metadata.json.</summary>
    public static RunDirectory Run(string dir, double[] f1s, int epochs = 3, bool summary = true, params string[] overrides)
    {
        var run = new RunDirectory(dir);
        run.Create();
        var config = Config([$"epochs={epochs}", .. overrides]);
        run.WriteConfig(config);
        for (int i = 0; i < f1s.Length; i++) run.AppendMetrics(Epoch(i + 1, f1s[i]));
        if (summary && f1s.Length > 0)
        {
            var best = Array.IndexOf(f1s, f1s.Max());
            run.WriteSummary(new RunSummary(new TrainingResult
            {
                Model = config.Model, Loss = "cross_entropy", Precision = "fp32", ImageSize = "24x32",
                BestValMacroF1 = f1s[best], BestValMaskF1 = 0.9, BestValGenderF1 = 0.7, BestValAgeF1 = 0.5, BestEpoch = best + 1,
                EpochsRun = f1s.Length, TrainSeconds = 10.5 * f1s.Length, TrainImagesPerSecond = 123.4, Classes = 18,
                ClassNames = TaskClasses.Names, TaskClasses = true,
            }, new EvalScores { MacroF1 = f1s[best] - 0.01, MaskF1 = 0.95, GenderF1 = 0.7, AgeF1 = 0.45 }));
        }
        RunDirectory.WriteJsonAtomic(run.MetadataFile, new
        {
            start_time = "2026-12-01T10:00:00.0000000+00:00", end_time = summary ? "2026-12-01T10:01:00.0000000+00:00" : null,
            wall_seconds = summary ? 60.0 : (double?)null, starting_weights = "random initialisation",
            device = new { device = "cpu", reason = "test" }, precision = new { setting = "fp32", resolved = "fp32", reason = "test" },
        });
        if (f1s.Length > 0) File.WriteAllText(run.LastCheckpoint, "not a checkpoint");
        return run;
    }

    /// <summary>A data folder in the competition layout: people × the seven photos, each a small real JPEG.</summary>
    public static string Data(string dir, params string[] people)
    {
        foreach (var p in people)
            foreach (var stem in Fixtures.PhotoStems)
                Fixtures.WriteImage(Path.Combine(dir, "train", "images", p, stem + ".jpg"));
        return dir;
    }

    /// <summary>confusion.csv, per_class.csv and val_predictions.csv for <paramref name="photos"/> with the given truth and prediction.</summary>
    public static void Predictions(RunDirectory run, IReadOnlyList<(string Photo, int Truth, int Predicted, float P)> photos)
    {
        var probs = new float[photos.Count, 18];
        for (int i = 0; i < photos.Count; i++)
            for (int c = 0; c < 18; c++) probs[i, c] = c == photos[i].Predicted ? photos[i].P : (1 - photos[i].P) / 17;
        ValPredictions.Write(run.ValPredictionsFile, photos.Select(p => p.Photo).ToArray(), photos.Select(p => p.Truth).ToArray(), probs);
        var cm = Metrics.Confusion(photos.Select(p => p.Truth).ToArray(), photos.Select(p => p.Predicted).ToArray(), 18);
        var lines = new List<string> { "truth," + string.Join(",", TaskClasses.Names) };
        for (int t = 0; t < 18; t++) lines.Add(TaskClasses.Names[t] + "," + string.Join(",", Enumerable.Range(0, 18).Select(p => cm[t, p].ToString(CultureInfo.InvariantCulture))));
        File.WriteAllLines(run.ConfusionFile, lines);
        var scores = Metrics.PerClass(cm);
        File.WriteAllLines(run.PerClassFile, new[] { string.Join(",", PerClassCsv.Header) }.Concat(scores.Select(s =>
            string.Join(",", s.Class, TaskClasses.Names[s.Class], s.Precision.ToString("R", CultureInfo.InvariantCulture),
                s.Recall.ToString("R", CultureInfo.InvariantCulture), s.F1.ToString("R", CultureInfo.InvariantCulture), s.Support, s.Predicted))));
    }

    /// <summary>
    /// A finished k-fold root (config.yaml with folds, two fold folders, summary.json with OOF scores) whose oof.csv
    /// gives each person's photos <paramref name="probability"/> on the class <paramref name="predicted"/> picks.
    /// </summary>
    public static RunDirectory KFold(string dir, IReadOnlyList<string> photos, Func<string, int> truth, Func<string, int> predicted, float probability = 0.9f)
    {
        var root = new RunDirectory(dir);
        Directory.CreateDirectory(dir);
        root.WriteConfig(Config("folds=2", "epochs=2"));
        for (int k = 0; k < 2; k++) Run(root.Fold(k).Path, [0.3, 0.4], epochs: 2);
        var header = new[] { "path", "person", "truth", "fold" }.Concat(Enumerable.Range(0, 18).Select(c => $"p{c}"));
        var rows = photos.Select((p, i) =>
        {
            var person = Path.GetFileName(Path.GetDirectoryName(p))!.Split('_')[0];
            var probs = Enumerable.Range(0, 18).Select(c => (c == predicted(p) ? probability : (1 - probability) / 17).ToString("R", CultureInfo.InvariantCulture));
            return string.Join(",", new[] { p, person, truth(p).ToString(CultureInfo.InvariantCulture), (i % 2).ToString(CultureInfo.InvariantCulture) }.Concat(probs));
        });
        File.WriteAllLines(root.OofFile, new[] { string.Join(",", header) }.Concat(rows));
        root.WriteSummary(new RunSummary(new TrainingResult
        {
            Model = "baseline", Loss = "cross_entropy", Precision = "fp32", ImageSize = "24x32", BestValMacroF1 = 0.35, EpochsRun = 2,
            Classes = 18, ClassNames = TaskClasses.Names, TaskClasses = true,
        }, Oof: new OofScores { Folds = 2, FoldValMacroF1 = [0.4, 0.4], MacroF1 = 0.33, Accuracy = 0.5 }));
        return root;
    }

    /// <summary>Marks <paramref name="dir"/> as written by this very process now (its lock holder record), as a live training does.</summary>
    public static void HeldByThisProcess(string dir) =>
        File.WriteAllText(Path.Combine(dir, RunDirectory.LockHolderFileName), JsonSerializer.Serialize(new
        {
            pid = Environment.ProcessId, host = Environment.MachineName, since = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        }));

    public static DashboardOptions Options(string runs, string? data = null, string? token = null, string host = "127.0.0.1", string? reviews = null) =>
        DashboardOptions.Create(runs, data is null ? [] : [data], host, 0, token, reviews);
}
