using System.Globalization;
using System.Text.Json.Nodes;

namespace MaskLab.Tests;

/// <summary>pseudo_labels: confident eval predictions trained on, never validated on, measured against the answers.</summary>
[Collection(CliConsoleCollection.Name)]
public sealed class PseudoLabelTests : IDisposable
{
    readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    static string EvalDir => Path.Combine(TinySynthetic.Root, "eval");

    /// <summary>
    /// A probability file over the tiny set's eval photos: every third photo right at 0.95, the next wrong at 0.95, the
    /// third right at only 0.5.
    /// </summary>
    string ProbabilityFile(int skip = 0)
    {
        var answers = File.ReadAllLines(Path.Combine(EvalDir, "answers.csv")).Skip(1).Select(l => l.Split(','))
            .Select(p => (Id: p[0], Class: int.Parse(p[1], CultureInfo.InvariantCulture))).Skip(skip).ToArray();
        var probs = new float[answers.Length, 18];
        for (int i = 0; i < answers.Length; i++)
        {
            int top = i % 3 == 1 ? (answers[i].Class + 1) % 18 : answers[i].Class;
            float p = i % 3 == 2 ? 0.5f : 0.95f;
            for (int c = 0; c < 18; c++) probs[i, c] = c == top ? p : (1 - p) / 17;
        }
        var file = _dir.Combine($"probs-{skip}.csv");
        EvalProbabilities.Write(file, answers.Select(a => a.Id).ToArray(), probs);
        return file;
    }

    [Fact]
    public void FromAFile_TheConfidentPhotosBecomeLabels_AndTheirAccuracyIsMeasured()
    {
        var (samples, record) = PseudoLabels.Select(new PseudoSpec(ProbabilityFile(), 0.9), EvalDir, 18, SilentObserver.Instance, CancellationToken.None);
        int photos = File.ReadAllLines(Path.Combine(EvalDir, "info.csv")).Length - 1;
        int confident = Enumerable.Range(0, photos).Count(i => i % 3 != 2), right = Enumerable.Range(0, photos).Count(i => i % 3 == 0);
        Assert.Equal(confident, samples.Count);
        Assert.Equal((photos, confident), (record.Candidates, record.Selected));
        Assert.Equal((double)right / confident, record.Accuracy!.Value, 9);
        Assert.All(samples, s => Assert.StartsWith("eval:", s.Group));
        Assert.All(samples, s => Assert.Null(s.Person));

        // A lower threshold takes every photo.
        var (all, _) = PseudoLabels.Select(new PseudoSpec(ProbabilityFile(), 0.4), EvalDir, 18, SilentObserver.Instance, CancellationToken.None);
        Assert.Equal(photos, all.Count);
    }

    [Fact]
    public void AFileMissingEvalPhotos_OrWithoutEvalData_IsRefused()
    {
        var e = Assert.Throws<MaskLabInputException>(() =>
            PseudoLabels.Select(new PseudoSpec(ProbabilityFile(skip: 1), 0.9), EvalDir, 18, SilentObserver.Instance, CancellationToken.None));
        Assert.Contains("has no probabilities for 1 eval photo(s)", e.Message);
        var none = Assert.Throws<MaskLabInputException>(() =>
            PseudoLabels.Select(new PseudoSpec(ProbabilityFile(), 0.9), null, 18, SilentObserver.Instance, CancellationToken.None));
        Assert.Contains("the data has no eval/ folder", none.Message);
        var bad = RunConfig.Load(null, ["pseudo_threshold=0"]);
        Assert.Equal("pseudo_threshold 0 is not valid: must be above 0 and at most 1", Assert.Throws<MaskLabInputException>(() => bad.Validate()).Message);
        Assert.Equal("pseudo_labels '/no/such' is neither a run directory nor a probability file", Assert.Throws<MaskLabInputException>(() =>
            PseudoLabels.Select(new PseudoSpec("/no/such", 0.9), EvalDir, 18, SilentObserver.Instance, CancellationToken.None)).Message);
    }

    [Fact]
    public void PseudoLabelledPhotos_AreTrainedOn_NeverValidatedOn_AndRecorded()
    {
        var probs = ProbabilityFile();
        var config = RunConfig.Load(null, [$"data={TinySynthetic.Root}", "model=baseline", "image_size=24x32", "epochs=1", "batch_size=32",
            "warmup_epochs=0", "threads=2", $"pseudo_labels={probs}", "pseudo_threshold=0.9"]).Validate();
        var data = TrainingData.Load(config.DataSection, SilentObserver.Instance, CancellationToken.None);
        int n = data.Set.Samples.Count;
        Assert.NotEmpty(data.Pseudo);
        Assert.Equal([.. data.TrainIndices, .. Enumerable.Range(n, data.Pseudo.Count)], data.LoaderTrainIndices);
        Assert.All(data.ValIndices, i => Assert.True(i < n));
        Assert.DoesNotContain(data.Set.Samples, s => s.Path.StartsWith(EvalDir, StringComparison.Ordinal));
        // The pseudo photos are decoded with the rest, and kept through a resplit (a sweep's seed).
        Assert.All(data.Pseudo, s => Assert.True(data.Cache.Contains(s.Path)));
        Assert.Equal(data.Pseudo, data.Resplit(config.DataSection with { Seed = 9 }).Pseudo);

        var run = new RunDirectory(_dir.Combine("run"));
        new RunJob(config, run).Run(CancellationToken.None, data, new RunEnd(Predict: false, Report: false));
        var summary = JsonNode.Parse(File.ReadAllText(run.SummaryFile))!;
        Assert.Equal(data.Pseudo.Count, summary["pseudo_labels"]!.GetValue<int>());
        Assert.Equal(data.PseudoLabelling!.Accuracy!.Value, summary["pseudo_label_accuracy"]!.GetValue<double>(), 9);
        Assert.Equal(data.TrainIndices.Length, summary["train_images"]!.GetValue<int>());
        Assert.DoesNotContain("eval:", File.ReadAllText(run.SplitFile));
        Assert.Equal(data.Pseudo.Count, JsonNode.Parse(File.ReadAllText(run.MetadataFile))!["pseudo_labels"]!["selected"]!.GetValue<int>());
    }

    [Fact]
    public void PredictProbs_WritesTheFile_AndARunDirectoryGivesTheSameLabels()
    {
        var teacher = _dir.Combine("teacher");
        var t = CliHarness.Run("train", "--data", TinySynthetic.Root, "--out", teacher, "--set", "model=baseline", "--set", "image_size=24x32",
            "--set", "epochs=1", "--set", "warmup_epochs=0", "--set", "threads=2");
        Assert.True(t.ExitCode == 0, t.Stderr);
        var file = _dir.Combine("teacher-probs.csv");
        var p = CliHarness.Run("predict", "--run", teacher, "--data", TinySynthetic.Root, "--out", _dir.Combine("sub.csv"), "--probs", file);
        Assert.True(p.ExitCode == 0, p.Stderr);

        var table = EvalProbabilities.Read(file);
        var info = File.ReadAllLines(Path.Combine(EvalDir, "info.csv")).Skip(1).Select(l => l.Split(',')[0]).ToArray();
        Assert.Equal(info, table.ImageIds);
        for (int i = 0; i < info.Length; i++)
            Assert.Equal(1.0, Enumerable.Range(0, 18).Sum(c => (double)table.Probabilities[i, c]), 4);

        // A threshold at the median confidence splits the photos; the run directory and its file pick the same ones.
        var confidences = Enumerable.Range(0, info.Length).Select(i => Enumerable.Range(0, 18).Max(c => table.Probabilities[i, c])).Order().ToArray();
        double threshold = confidences[info.Length / 2];
        var (fromFile, _) = PseudoLabels.Select(new PseudoSpec(file, threshold), EvalDir, 18, SilentObserver.Instance, CancellationToken.None);
        var (fromRun, _) = PseudoLabels.Select(new PseudoSpec(teacher, threshold), EvalDir, 18, SilentObserver.Instance, CancellationToken.None);
        Assert.InRange(fromFile.Count, 1, info.Length - 1);
        Assert.Equal(fromFile.Select(s => (s.Path, s.Label)), fromRun.Select(s => (s.Path, s.Label)));
    }
}
