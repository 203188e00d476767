using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MaskLab.Tracking;
using MaskLab.Training;

namespace MaskLab.Tests;

/// <summary>
/// Run metadata, validation predictions, TensorBoard pictures, and the report / compare verbs, on one tiny real
/// run trained once for the whole class.
/// </summary>
[Collection(CliConsoleCollection.Name)]
public class TrackingTests
{
    static readonly Lazy<string> FixtureRun = new(() =>
    {
        var dir = Path.Combine(Directory.CreateTempSubdirectory("masklab-track-").FullName, "run");
        var config = RunConfig.Load(null, [$"data={TinySynthetic.Root}", "model=baseline", "image_size=24x32", "epochs=2",
            "batch_size=16", "warmup_epochs=0", "seed=3", "threads=2"]).Validate();
        new RunJob(config, new RunDirectory(dir)).Run(CancellationToken.None);
        return dir;
    });

    static string NewDir(string name) => Directory.CreateTempSubdirectory($"masklab-{name}-").FullName;

    [Fact]
    public void MetadataRecordsConfigCodeDataMachineAndTimes()
    {
        var run = FixtureRun.Value;
        var m = JsonNode.Parse(File.ReadAllText(new RunDirectory(run).MetadataFile))!.AsObject();

        var start = DateTimeOffset.Parse(m["start_time"]!.GetValue<string>());
        var end = DateTimeOffset.Parse(m["end_time"]!.GetValue<string>());
        Assert.True(end >= start, $"{start} .. {end}");
        Assert.True(m["wall_seconds"]!.GetValue<double>() >= 0);

        Assert.Equal("3", m["config"]!["seed"]!.GetValue<string>());
        Assert.Equal("baseline", m["config"]!["model"]!.GetValue<string>());

        // Every train photo of the tiny set: 90 people x 7 photos.
        Assert.Equal(TinySynthetic.Options.People * 7, m["data"]!["files"]!.GetValue<int>());
        Assert.Matches("^[0-9a-f]{64}$", m["data"]!["sha256"]!.GetValue<string>());

        Assert.True(m.ContainsKey("git"));
        if (FindUp(AppContext.BaseDirectory, ".git") && HasGit())
        {
            Assert.Matches("^[0-9a-f]{40}$", m["git"]!["commit"]!.GetValue<string>());
            Assert.NotNull(m["git"]!["dirty"]);
        }
        Assert.Equal(Environment.ProcessorCount, m["machine"]!["logical_cores"]!.GetValue<int>());
        Assert.True(m["machine"]!["memory_bytes"]!.GetValue<long>() > 0);
        Assert.False(string.IsNullOrEmpty(m["machine"]!["cpu"]!.GetValue<string>()));
        Assert.StartsWith("0.107", m["packages"]!["TorchSharp"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(m["packages"]!["ScottPlot"]!.GetValue<string>()));

        // Per epoch: the scalars the issue lists, one line each.
        var lines = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal(2, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        foreach (var key in new[] { "train_loss", "val_loss", "val_macro_f1", "val_mask_f1", "val_gender_f1", "val_age_f1", "lr", "train_images_per_second" })
            Assert.True(first.RootElement.TryGetProperty(key, out _), $"metrics.jsonl lacks {key}");
    }

    static bool FindUp(string dir, string name)
    {
        for (var d = new DirectoryInfo(dir); d is not null; d = d.Parent)
            if (Directory.Exists(Path.Combine(d.FullName, name)) || File.Exists(Path.Combine(d.FullName, name))) return true;
        return false;
    }

    static bool HasGit() => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(p => File.Exists(Path.Combine(p, "git")));

    [Fact]
    public void DataFingerprintChangesWithTheFileListAndSizesOnly()
    {
        var dir = NewDir("fp");
        var a = Path.Combine(dir, "a.jpg");
        var b = Path.Combine(dir, "sub", "b.jpg");
        Directory.CreateDirectory(Path.GetDirectoryName(b)!);
        File.WriteAllBytes(a, [1, 2, 3]);
        File.WriteAllBytes(b, [4, 5]);
        string Hash(params string[] files) => RunMetadata.DataFingerprint(files)["sha256"]!.GetValue<string>();

        var both = Hash(a, b);
        Assert.Equal(both, Hash(b, a));
        Assert.NotEqual(both, Hash(a));
        Assert.Equal(2, RunMetadata.DataFingerprint([a, b])["files"]!.GetValue<int>());
        File.WriteAllBytes(b, [4, 5, 6]);
        Assert.NotEqual(both, Hash(a, b));
    }

    [Fact]
    public void ValidationPredictionsAndTensorBoardPicturesAreWritten()
    {
        var run = FixtureRun.Value;
        var rows = ValPredictions.Read(new RunDirectory(run).ValPredictionsFile);
        var summary = new RunDirectory(run).ReadSummary()!;
        Assert.Equal(summary.Training.ValImages, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.Equal(18, r.Probabilities.Length);
            Assert.InRange(r.Probabilities.Sum(), 0.999, 1.001);
            Assert.Equal(Array.IndexOf(r.Probabilities, r.Probabilities.Max()), r.Prediction);
            Assert.True(File.Exists(r.Path), r.Path);
        });

        // The event file holds the image summaries under their tags, next to the scalars.
        var events = string.Concat(Directory.GetFiles(Path.Combine(run, "tensorboard"), "*", SearchOption.AllDirectories)
            .Select(f => System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(f))));
        foreach (var tag in new[] { "val/confusion", "val/samples", "val/macro_f1", "loss/train" })
            Assert.Contains(tag, events);
        Assert.Contains("\x89PNG", events);
    }

    [Fact]
    public void ReportOfOneRunHoldsEverySection()
    {
        var html = Path.Combine(NewDir("report"), "run.html");
        var r = CliHarness.Run("report", FixtureRun.Value, "--out", html);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var text = File.ReadAllText(html);

        foreach (var id in new[] { "overview", "curves", "confusion", "per-class", "per-attribute", "gallery", "metadata" })
            Assert.Contains($"<section id=\"{id}\"", text);
        // Loss, F1 and learning-rate curves, heat map, per-class bars, per-attribute curves.
        Assert.True(Regex.Count(Section(text, "curves"), "<img class=\"plot\"") == 3, "three curves");
        Assert.Contains("data:image/png;base64,", Section(text, "confusion"));
        Assert.Contains("data:image/png;base64,", Section(text, "per-class"));
        Assert.Contains("<td>mask</td>", Section(text, "per-attribute"));
        // A tiny two-epoch model is wrong on plenty of photos: the gallery shows the most confident of them, in words.
        var gallery = Section(text, "gallery");
        Assert.Equal(HtmlReport.GalleryPhotos, Regex.Count(gallery, "<img class=\"photo\""));
        Assert.Matches("true: (wear|incorrect|not wear)[^<]* / (male|female) / (&lt;30|30-59|60\\+)", gallery);
        // Self-contained: nothing fetched from elsewhere.
        Assert.DoesNotMatch("(src|href)=\"(http|//)", text);
        // Each plot decodes as a PNG.
        foreach (Match m in Regex.Matches(text, "data:image/png;base64,([A-Za-z0-9+/=]+)"))
            Assert.Equal(0x89, Convert.FromBase64String(m.Groups[1].Value)[0]);
    }

    static string Section(string html, string id)
    {
        int start = html.IndexOf($"<section id=\"{id}\"", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no section {id}");
        return html[start..html.IndexOf("</section>", start, StringComparison.Ordinal)];
    }

    static int BodyRows(string section) => Regex.Count(section[section.IndexOf("<tbody>", StringComparison.Ordinal)..], "<tr>");

    /// <summary>A sweep folder of copies of the fixture run, each with its own setting and score.</summary>
    static string Sweep(params (string Name, string Lr, string Seed, double F1)[] runs)
    {
        var sweep = NewDir("sweep");
        foreach (var (name, lr, seed, f1) in runs)
        {
            var dir = Path.Combine(sweep, name);
            foreach (var f in Directory.GetFiles(FixtureRun.Value, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(dir, Path.GetRelativePath(FixtureRun.Value, f));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(f, target);
            }
            var config = Path.Combine(dir, "config.yaml");
            File.WriteAllText(config, Regex.Replace(Regex.Replace(File.ReadAllText(config), "(?m)^lr: .*$", $"lr: {lr}"), "(?m)^seed: .*$", $"seed: {seed}"));
            var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!.AsObject();
            summary["best_val_macro_f1"] = f1;
            File.WriteAllText(Path.Combine(dir, "summary.json"), summary.ToJsonString());
        }
        File.WriteAllText(Path.Combine(sweep, "results.csv"), "run,best_val_macro_f1\n");
        return sweep;
    }

    [Fact]
    public void SweepRendersOneRowPerSettingAndTheSeedSpread()
    {
        var sweep = Sweep(("lr_0.1", "0.1", "3", 0.31), ("lr_0.01", "0.01", "3", 0.52), ("lr_0.001", "0.001", "3", 0.44));
        var html = Path.Combine(NewDir("sweep-report"), "sweep.html");
        var r = CliHarness.Run("report", sweep, "--out", html);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var text = File.ReadAllText(html);
        var comparison = Section(text, "comparison");
        Assert.Equal(3, BodyRows(comparison));
        Assert.Contains("<th>lr</th>", comparison);
        Assert.DoesNotContain("<th>seed</th>", comparison);
        foreach (var name in new[] { "lr_0.1", "lr_0.01", "lr_0.001" }) Assert.Contains($"<td>{name}</td>", comparison);
        Assert.Contains("0.5200", comparison);
        Assert.Equal(2, Regex.Count(Section(text, "overlay"), "<img class=\"plot\""));
        Assert.Contains("No setting was run with more than one seed", Section(text, "seed-spread"));
        // The best run's own sections follow.
        Assert.Contains("Best run: lr_0.01", text);
        Assert.Contains("<section id=\"confusion\"", text);

        // compare prints the same rows, best first.
        var c = CliHarness.Run("compare", sweep, "--json");
        Assert.True(c.ExitCode == 0, c.Stderr);
        using var json = JsonDocument.Parse(c.LastStdoutLine);
        var names = json.RootElement.GetProperty("runs").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToArray();
        Assert.Equal(new string?[] { "lr_0.01", "lr_0.001", "lr_0.1" }, names);
        Assert.Contains("lr_0.001", c.Stdout);
    }

    [Fact]
    public void RunsDifferingOnlyBySeedFormOneSpreadRow()
    {
        var sweep = Sweep(("a_s1", "0.01", "1", 0.50), ("a_s2", "0.01", "2", 0.54), ("a_s3", "0.01", "3", 0.46), ("b_s1", "0.1", "1", 0.30));
        var html = Path.Combine(NewDir("spread"), "spread.html");
        Assert.Equal(0, CliHarness.Run("report", sweep, "--out", html).ExitCode);
        var spread = Section(File.ReadAllText(html), "seed-spread");
        Assert.Equal(1, BodyRows(spread));
        Assert.Contains("<td>lr=0.01</td>", spread);
        Assert.Contains("0.5000", spread); // mean of 0.50, 0.54, 0.46
        Assert.Contains("0.0400", spread); // their sample standard deviation
        Assert.Contains("<img class=\"plot\"", spread);
    }

    [Fact]
    public void FoldersWithoutRunsAreOneLineErrors()
    {
        var empty = NewDir("norun");
        var r = CliHarness.Run("report", empty, "--out", Path.Combine(empty, "x.html"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(empty, r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));

        var missing = Path.Combine(empty, "nope");
        var c = CliHarness.Run("compare", missing);
        Assert.Equal(2, c.ExitCode);
        Assert.Contains(missing, c.Stderr);

        var noOut = CliHarness.Run("report", empty);
        Assert.Equal(2, noOut.ExitCode);
    }
}
