using System.Text.Json;
using MaskLab.Training;

namespace MaskLab.Tests;

/// <summary>The train / eval / predict verbs end to end, through the real entry point, on the tiny synthetic set.</summary>
[Collection(CliConsoleCollection.Name)]
public class CliTrainingTests
{
    static readonly string[] Tiny = ["--set", "model=baseline", "--set", "image_size=24x32", "--set", "batch_size=16", "--set", "warmup_epochs=0", "--set", "threads=2"];

    static string NewDir(string name) => Directory.CreateTempSubdirectory($"masklab-{name}-").FullName;

    static CliResult Train(string data, string run, params string[] extra) =>
        CliHarness.Run(["train", "--data", data, "--out", run, .. Tiny, .. extra]);

    [Fact]
    public void MainJobWritesRunFilesSubmissionAndScore()
    {
        var run = Path.Combine(NewDir("main"), "run");
        var r = Train(TinySynthetic.Root, run, "--set", "epochs=2", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);

        using var json = JsonDocument.Parse(r.LastStdoutLine);
        foreach (var key in new[] { "best_val_macro_f1", "best_epoch", "epochs_run", "train_seconds", "train_images_per_second", "model", "loss", "precision", "eval_macro_f1" })
            Assert.True(json.RootElement.TryGetProperty(key, out _), $"summary lacks {key}");
        Assert.Equal(2, json.RootElement.GetProperty("epochs_run").GetInt32());

        foreach (var file in new[] { "config.yaml", "metrics.jsonl", "summary.json", "split.json", "metadata.json", "confusion.csv", "per_class.csv", "checkpoints/best.ckpt", "checkpoints/last.ckpt", "submission.csv", "report.html" })
            Assert.True(File.Exists(Path.Combine(run, file)), $"missing {file}");
        // The run ends with a short summary and the report's path, not the confusion matrix.
        Assert.Contains("report.html", r.Stdout);
        Assert.Contains("eval set", r.Stdout);
        Assert.DoesNotContain("confusion", r.Stdout);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(run, "tensorboard")));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Length);

        // The submission keeps info.csv's order, row for row.
        var info = File.ReadAllLines(Path.Combine(TinySynthetic.Root, "eval", "info.csv")).Skip(1).Select(l => l.Split(',')[0]).ToArray();
        var sub = File.ReadAllLines(Path.Combine(run, "submission.csv"));
        Assert.Equal("ImageID,ans", sub[0]);
        Assert.Equal(info, sub.Skip(1).Select(l => l.Split(',')[0]).ToArray());
        Assert.All(sub.Skip(1), l => Assert.InRange(int.Parse(l.Split(',')[1]), 0, 17));

        // eval and score agree with what the trainer saw.
        var eval = CliHarness.Run("eval", "--run", run, "--data", TinySynthetic.Root, "--json");
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        using var evalJson = JsonDocument.Parse(eval.LastStdoutLine);
        foreach (var key in new[] { "macro_f1", "accuracy", "mask_f1", "gender_f1", "age_f1" })
            Assert.True(evalJson.RootElement.TryGetProperty(key, out _), $"eval lacks {key}");

        var score = CliHarness.Run("score", "--pred", Path.Combine(run, "submission.csv"), "--truth", Path.Combine(TinySynthetic.Root, "eval", "answers.csv"), "--json");
        Assert.Equal(0, score.ExitCode);
        using var scoreJson = JsonDocument.Parse(score.LastStdoutLine);
        Assert.Equal(json.RootElement.GetProperty("eval_macro_f1").GetDouble(), scoreJson.RootElement.GetProperty("macro_f1").GetDouble(), 9);

        // An ensemble of a run with itself predicts what the run predicts.
        var twice = Path.Combine(NewDir("ens"), "twice.csv");
        var p = CliHarness.Run("predict", "--run", run, "--run", run, "--data", TinySynthetic.Root, "--out", twice);
        Assert.True(p.ExitCode == 0, p.Stderr);
        Assert.Equal(sub, File.ReadAllLines(twice));
    }

    [Fact]
    public void EvalCheckpointLastPredictsTheEvalSetWithTheLastEpochsWeights()
    {
        var run = Path.Combine(NewDir("last"), "run");
        var r = Train(TinySynthetic.Root, run, "--set", "epochs=2", "--set", "eval_checkpoint=last", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using (var json = JsonDocument.Parse(r.LastStdoutLine))
            Assert.Equal("last", json.RootElement.GetProperty("eval_checkpoint").GetString());
        var last = Path.Combine(NewDir("last-pred"), "last.csv");
        Assert.Equal(0, CliHarness.Run("predict", "--run", run, "--data", TinySynthetic.Root, "--out", last, "--checkpoint", "last").ExitCode);
        Assert.Equal(File.ReadAllLines(last), File.ReadAllLines(Path.Combine(run, "submission.csv")));

        // The eval prediction reads last.ckpt alone: a damaged best.ckpt does not stop it, and under best it does.
        var dir = new RunDirectory(run);
        File.WriteAllText(dir.BestCheckpoint, "damaged");
        var summary = dir.ReadSummary()!;
        var outcome = MaskLab.Experiments.RunJob.PredictEvalSet(dir, summary, new MaskLab.Experiments.RunEnd(Report: false), CancellationToken.None);
        Assert.Equal("last", outcome.Summary.Eval!.Checkpoint);
        File.WriteAllText(dir.ConfigFile, File.ReadAllText(dir.ConfigFile).Replace("eval_checkpoint: last", "eval_checkpoint: best"));
        Assert.Throws<MaskLabInputException>(() => MaskLab.Experiments.RunJob.PredictEvalSet(dir, summary, new MaskLab.Experiments.RunEnd(Report: false), CancellationToken.None));
    }

    [Fact]
    public void ResumeContinuesFromTheLastCheckpointAndNaNKeepsIt()
    {
        var run = Path.Combine(NewDir("resume"), "run");
        Assert.Equal(0, Train(TinySynthetic.Root, run, "--set", "epochs=1").ExitCode);
        var firstEpoch = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.Single(firstEpoch);

        // Ask for one more epoch: resume trains epoch 2 only and keeps epoch 1's log line.
        var configFile = Path.Combine(run, "config.yaml");
        File.WriteAllText(configFile, File.ReadAllText(configFile).Replace("epochs: 1", "epochs: 2"));
        var resumed = CliHarness.Run("train", "--resume", run);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        var lines = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal(2, lines.Length);
        Assert.Equal(firstEpoch[0], lines[0]);

        // A third epoch with an absurd learning rate diverges: the run stops, says why, and epoch 2's checkpoint stays.
        var before = File.ReadAllBytes(Path.Combine(run, "checkpoints", "last.ckpt"));
        File.WriteAllText(configFile, File.ReadAllText(configFile).Replace("epochs: 2", "epochs: 3")
            .Replace("lr: 0.001", "lr: 1E+30"));
        var diverged = CliHarness.Run("train", "--resume", run);
        Assert.Equal(1, diverged.ExitCode);
        Assert.Contains("loss became", diverged.Stderr);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(run, "checkpoints", "last.ckpt")));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Length);

        // Resuming with another optimiser cannot restore its state: a clear error, not a crash.
        File.WriteAllText(configFile, File.ReadAllText(configFile).Replace("optimizer: adamw", "optimizer: sgd").Replace("lr: 1E+30", "lr: 0.001"));
        AssertOneLineError(CliHarness.Run("train", "--resume", run), "optimizer");
    }

    [Fact]
    public void BadPhotosFailTheRunBeforeTrainingUnlessSkipped()
    {
        var data = TinySynthetic.CopyTo(NewDir("badimg"));
        var person = Directory.GetDirectories(Path.Combine(data, "train", "images"))[0];
        var broken = Directory.GetFiles(person, "normal.*")[0];
        var bytes = File.ReadAllBytes(broken);
        File.WriteAllBytes(broken, bytes[..(bytes.Length / 2)]);
        var notAnImage = Directory.GetFiles(person, "mask1.*")[0];
        File.WriteAllText(notAnImage, "not an image");

        var run = Path.Combine(NewDir("badrun"), "run");
        var failed = Train(data, run, "--set", "epochs=1");
        Assert.Equal(2, failed.ExitCode);
        Assert.Contains(broken, failed.Stderr);
        Assert.Contains(notAnImage, failed.Stderr);
        Assert.Contains("--skip-bad", failed.Stderr);
        Assert.False(File.Exists(Path.Combine(run, "checkpoints", "last.ckpt")));

        var skipped = Train(data, run + "-skip", "--set", "epochs=1", "--skip-bad", "--json");
        Assert.True(skipped.ExitCode == 0, skipped.Stderr);
        Assert.Contains("skipping 2 unreadable photo(s)", skipped.Stdout);
        using var json = JsonDocument.Parse(skipped.LastStdoutLine);
        Assert.Equal(2, json.RootElement.GetProperty("skipped_bad_images").GetInt32());
    }

    public static TheoryData<string, string> BadFolders => new()
    {
        { "001_male_Asian", "001_male_Asian" },
        { "000002_male_Asian_abc", "000002_male_Asian_abc" },
        { "000003_other_Asian_40", "000003_other_Asian_40" },
    };

    [Theory, MemberData(nameof(BadFolders))]
    public void BadFolderNamesAreOneLineNamingTheFolder(string folder, string expected)
    {
        var data = TinySynthetic.CopyTo(NewDir("badname"));
        var images = Path.Combine(data, "train", "images");
        Directory.Move(Directory.GetDirectories(images)[0], Path.Combine(images, folder));
        File.Delete(Path.Combine(data, "train", "train.csv"));
        var r = Train(data, Path.Combine(NewDir("r"), "run"), "--set", "epochs=1");
        AssertOneLineError(r, expected);
    }

    [Fact]
    public void TrainCsvWithoutItsColumnsIsNamed()
    {
        var data = TinySynthetic.CopyTo(NewDir("badcsv"));
        var csv = Path.Combine(data, "train", "train.csv");
        File.WriteAllText(csv, "id,sex\n1,male\n");
        AssertOneLineError(Train(data, Path.Combine(NewDir("r"), "run")), "train.csv");
    }

    [Fact]
    public void EmptyAndMissingDataFoldersAreNamed()
    {
        var empty = NewDir("empty");
        AssertOneLineError(Train(empty, Path.Combine(NewDir("r"), "run")), empty);
        AssertOneLineError(Train("/nonexistent/masklab", Path.Combine(NewDir("r"), "run")), "/nonexistent/masklab");
    }

    [Theory]
    [InlineData("image_size=0x5", "0x5")]
    [InlineData("image_size=wide", "wide")]
    [InlineData("model=resnet9000", "resnet9000")]
    [InlineData("loss=hinge", "hinge")]
    [InlineData("colour=blue", "colour")]
    public void NonsenseSettingsAreOneLineNamingTheValue(string set, string expected) =>
        AssertOneLineError(CliHarness.Run("train", "--set", set), expected);

    [Fact]
    public void UnknownOptionAndMissingRunAreBadArguments()
    {
        AssertOneLineError(CliHarness.Run("train", "--frobnicate"), "frobnicate");
        AssertOneLineError(CliHarness.Run("eval", "--run", "/nonexistent/run", "--data", TinySynthetic.Root), "/nonexistent/run");
        AssertOneLineError(CliHarness.Run("predict", "--run", "/nonexistent/run", "--data", TinySynthetic.Root, "--out", "/tmp/x.csv"), "/nonexistent/run");
    }

    static void AssertOneLineError(CliResult r, string expected)
    {
        Assert.Equal(2, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line, got: {r.Stderr}");
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain("   at ", r.Stderr);
    }
}
