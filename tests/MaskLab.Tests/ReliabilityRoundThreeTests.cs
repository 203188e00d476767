using System.Diagnostics;
using System.Text;
using MaskLab.Data.Faces;
using MaskLab.Data.Layout;

namespace MaskLab.Tests;

/// <summary>
/// The command-line defects of issue 29, one test each through the real entry point: an output never replaces an
/// input, a file of a run or a file of a data set; a malformed label_fixes file and a face-box cache cut inside its
/// last line are noticed; messages name the real cause. The dashboard's items (5, 6, 7, 11) are in
/// <see cref="DashboardServerTests"/>.
/// </summary>
[Collection(CliConsoleCollection.Name)]
public sealed class ReliabilityRoundThreeTests(RoundTwoRuns trained) : IClassFixture<RoundTwoRuns>, IDisposable
{
    readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    static string OneLineError(CliResult r, string expected) => CliAssert.OneLineError(r, expected);

    string CopyOf(string dir, string name) => Tree.Copy(dir, temp.Combine(name));

    // ---- 1: predict over a run's checkpoints ----

    [Fact]
    public void Item01_PredictNeverWritesOverARunsCheckpoints()
    {
        var r1 = CopyOf(trained.Run, "r1");
        var r2 = CopyOf(trained.Run, "r2");
        var before1 = Tree.Snapshot(r1);
        var before2 = Tree.Snapshot(r2);
        var last = Path.Combine(r1, "checkpoints", "last.ckpt");
        var line = OneLineError(CliHarness.Run("predict", "--run", r1, "--data", FaultData.Root, "--out", last), "inside the run folder");
        Assert.Contains(last, line);
        var sub = temp.Combine("sub.csv");
        OneLineError(CliHarness.Run("predict", "--run", r1, "--data", FaultData.Root, "--out", sub, "--probs", Path.Combine(r2, "checkpoints", "best.ckpt")),
            "--probs");
        // Through a link: the real path decides.
        var link = temp.Combine("ckpt-link");
        File.CreateSymbolicLink(link, Path.Combine(r1, "checkpoints"));
        OneLineError(CliHarness.Run("predict", "--run", r1, "--data", FaultData.Root, "--out", Path.Combine(link, "best.ckpt")), "inside the run folder");
        Assert.Empty(Tree.Differences(before1, Tree.Snapshot(r1)));
        Assert.Empty(Tree.Differences(before2, Tree.Snapshot(r2)));
        Assert.False(File.Exists(sub), "a refused command wrote its other output");

        // The run still evaluates, and a submission outside every run is written as before.
        Assert.Equal(0, CliHarness.Run("eval", "--run", r1, "--data", FaultData.Root).ExitCode);
        var ok = CliHarness.Run("predict", "--run", r1, "--data", FaultData.Root, "--out", sub);
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.StartsWith("ImageID,ans", File.ReadAllText(sub));
    }

    // ---- 2: predict over a data set's files or a run's own files ----

    [Fact]
    public void Item02_PredictNeverWritesIntoADataSetOrARunFolder()
    {
        var data = FaultData.CopyTo(temp.Combine("d"));
        var run = CopyOf(trained.Run, "r1");
        var beforeData = Tree.Snapshot(data);
        var beforeRun = Tree.Snapshot(run);
        string Predict(string option, string target, string expected, string dataArg) =>
            OneLineError(CliHarness.Run(option == "--out"
                ? ["predict", "--run", run, "--data", dataArg, "--out", target]
                : ["predict", "--run", run, "--data", dataArg, "--out", temp.Combine("sub.csv"), "--probs", target]), expected);

        Predict("--out", Path.Combine(data, "train", "train.csv"), "data set", data);
        Predict("--probs", Path.Combine(data, "train", "train.csv"), "data set", data);
        Predict("--out", Path.Combine(data, "train_truth.csv"), "data set", data);
        Predict("--out", Path.Combine(data, "eval", "new.csv"), "data set", data);
        // --data naming eval/ alone: its sibling train/ is still a data set.
        Predict("--out", Path.Combine(data, "train", "train.csv"), "data set", Path.Combine(data, "eval"));
        Predict("--out", Path.Combine(data, "eval", "answers.csv"), "an input of this command", data);
        Predict("--out", Path.Combine(run, "submission.csv"), "inside the run folder", data);
        Predict("--out", Path.Combine(run, "config.yaml"), "inside the run folder", data);
        Predict("--out", Path.Combine(trained.KFold, "fold-0", "summary.json"), "inside the run folder", data);
        Predict("--out", Path.Combine(trained.KFold, "oof.csv"), "inside the k-fold run", data);
        Predict("--out", Path.Combine(trained.Sweep, "results.csv"), "inside the sweep folder", data);
        Assert.Empty(Tree.Differences(beforeData, Tree.Snapshot(data)));
        Assert.Empty(Tree.Differences(beforeRun, Tree.Snapshot(run)));

        // The other commands that write a file of their own keep the same rule.
        OneLineError(CliHarness.Run("report", run, "--out", Path.Combine(run, "metrics.jsonl")), "inside the run folder");
        OneLineError(CliHarness.Run("audit", "--run", trained.KFold, "--fixes", Path.Combine(trained.KFold, "oof.csv")), "--fixes");
        OneLineError(CliHarness.Run("audit", "--run", trained.KFold, "--fixes", Path.Combine(data, "train", "x.csv")), "data set");
        OneLineError(CliHarness.Run("export", "--run", run, "--out", Path.Combine(run, "checkpoints", "best.ckpt")), "inside the run folder");
        Assert.Empty(Tree.Differences(beforeRun, Tree.Snapshot(run)));
    }

    // ---- 3: an unterminated quote in a label_fixes file ----

    [Fact]
    public void Item03_AnUnterminatedQuoteInALabelFixesFileIsRefusedNotSwallowingTheNextRow()
    {
        var fixes = temp.Combine("lf.csv");
        File.WriteAllText(fixes, "person,field,value,note\n000002,age,60,\"unterminated\n000007,gender,female,\n");
        var run = temp.Combine("run");
        var line = OneLineError(CliHarness.Run(["train", "--data", FaultData.Root, "--out", run, "--set", "epochs=1",
            "--set", $"label_fixes={fixes}", .. FaultData.TinySet]), fixes);
        Assert.Contains("never closed", line);
        Assert.False(Directory.Exists(run) && Directory.EnumerateFileSystemEntries(run).Any(n => !Path.GetFileName(n).StartsWith('.')), "a refused run left files");
        // The same file read by the library: an error, never one row fewer.
        Assert.Throws<MaskLabInputException>(() => LabelFixes.Load(fixes));
        // Quoted fields that close, line breaks inside them included, still read.
        File.WriteAllText(fixes, "person,field,value,note\n000002,age,60,\"a note, with a comma\nand a line break\"\n000007,gender,female,\n");
        Assert.Equal(2, LabelFixes.Load(fixes).Count);
    }

    // ---- 4: a face-box cache cut inside its last line ----

    sealed class FixedDetector : IFaceDetector
    {
        public string Id => "fixed";
        public int InputSide => 64;
        public IReadOnlyList<FaceDetection> Detect(ReadOnlySpan<byte> rgb, int width, int height) =>
            [new(new FaceBox(1.25f, 2.5f, width / 3.1f, height / 2.7f), 0.93f)];
        public void Dispose() { }
    }

    [Fact]
    public void Item04_AFaceBoxCacheCutInsideItsLastLineIsDetectedAndRebuilt()
    {
        var photos = Directory.GetFiles(Path.Combine(FaultData.Root, "eval", "images")).Order(StringComparer.Ordinal).Take(3).ToArray();
        var side = temp.Combine("boxes", "face-boxes-fixed.csv");
        using var detector = new FixedDetector();
        var first = FaceBoxStore.Ensure(side, photos, detector);
        var good = File.ReadAllText(side);
        Assert.EndsWith("\n", good);
        var lastLine = good.TrimEnd('\n').Split('\n')[^1];
        // Cut inside the height (the issue's "...,39.651386,3"), inside the score, and right after the last comma.
        var heightStart = good.Length - 1 - lastLine.Length + lastLine.LastIndexOf(',', lastLine.LastIndexOf(',') - 1) + 1;
        foreach (var cut in new[] { heightStart + 1, good.Length - 3, good.Length - 1 - lastLine.Length + lastLine.LastIndexOf(',') + 1 })
        {
            File.WriteAllText(side, good[..cut]);
            var e = Assert.Throws<MaskLabInputException>(() => FaceBoxFile.Read(side));
            Assert.Contains(side, e.Message);
            var healed = FaceBoxStore.Ensure(side, photos, detector);
            Assert.NotNull(healed.Report.CacheDamage);
            Assert.Equal(first.ByPath, healed.ByPath);
            Assert.Equal(good, File.ReadAllText(side));
        }
        // A file cut exactly at a line's end is whole rows: it is kept, and the missing photo found again.
        File.WriteAllText(side, good[..(good.Length - lastLine.Length - 1)]);
        var resumed = FaceBoxStore.Ensure(side, photos, detector);
        Assert.Null(resumed.Report.CacheDamage);
        Assert.Equal(good, File.ReadAllText(side));
    }

    // ---- 8: train.csv that is a folder ----

    [Fact]
    public void Item08_ATrainCsvThatIsAFolderIsNamedAsSuch()
    {
        var data = FaultData.CopyTo(temp.Combine("d"));
        var csv = Path.Combine(data, "train", "train.csv");
        File.Delete(csv);
        Directory.CreateDirectory(csv);
        var line = OneLineError(CliHarness.Run("eval", "--run", trained.Run, "--data", data), csv);
        Assert.Contains("is a folder", line);
        Assert.DoesNotContain("without labels", line);
        OneLineError(CliHarness.Run(["train", "--data", data, "--out", temp.Combine("run"), .. FaultData.TinySet]), "is a folder");
        var info = Path.Combine(data, "eval", "info.csv");
        Directory.Delete(csv);
        File.Move(info, info + ".bak");
        Directory.CreateDirectory(info);
        OneLineError(CliHarness.Run("predict", "--run", trained.Run, "--data", data, "--out", temp.Combine("s.csv")), $"{info} is a folder");
    }

    // ---- 9: a YAML key given twice ----

    [Fact]
    public void Item09_AYamlKeyGivenTwiceIsRefusedNamingTheKeyAndBothLines()
    {
        var config = temp.Combine("dup.yaml");
        File.WriteAllText(config, "model: baseline\nepochs: 1\nlr: 0.01\nepochs: 2\n");
        var line = OneLineError(CliHarness.Run("train", "--config", config, "--data", FaultData.Root, "--out", temp.Combine("run")), config);
        Assert.Contains("'epochs' twice (lines 2 and 4)", line);
        Assert.False(Directory.Exists(temp.Combine("run")));

        // In a sweep file, at the top and inside a nested mapping; the same key in two list entries is no duplicate.
        var sweep = temp.Combine("sweep.yaml");
        File.WriteAllText(sweep, "base:\n  model: baseline\n  lr: 0.1\n  lr: 0.2\nseeds: [1]\n");
        Assert.Contains("'lr' twice (lines 3 and 4)", OneLineError(CliHarness.Run("sweep", "--config", sweep, "--out", temp.Combine("sw"), "--dry-run"), sweep));
        File.WriteAllText(sweep, "base:\n  model: baseline\nseeds: [1]\nruns:\n  - {lr: 0.1}\n  - {lr: 0.2}\nseeds: [2]\n");
        Assert.Contains("'seeds' twice (lines 3 and 7)", OneLineError(CliHarness.Run("sweep", "--config", sweep, "--out", temp.Combine("sw"), "--dry-run"), sweep));
        File.WriteAllText(sweep, "base:\n  model: baseline\n  image_size: 16x16\nseeds: [1]\nruns:\n  - {lr: 0.1}\n  - {lr: 0.2}\n");
        var dry = CliHarness.Run("sweep", "--config", sweep, "--out", temp.Combine("sw"), "--dry-run");
        Assert.True(dry.ExitCode == 0, dry.Stderr);
    }

    // ---- 10: SIGTERM before the run folder exists ----

    [Fact]
    public void Item10_TheInterruptedMessageNamesAFolderToResumeOnlyWhereOneWasWritten()
    {
        var early = new RunDirectory(temp.Combine("early"));
        var line = MaskLab.Cli.Commands.TrainCommand.Interrupted(early);
        Assert.DoesNotContain("--resume", line);
        Assert.Contains("nothing to resume", line);
        // What a writer leaves before its config (the lock, an empty checkpoints/) is no run either.
        Directory.CreateDirectory(early.CheckpointsDir);
        File.WriteAllText(early.LockFile, "");
        Assert.DoesNotContain("--resume", MaskLab.Cli.Commands.TrainCommand.Interrupted(early));
        var started = new RunDirectory(CopyOf(trained.Run, "started"));
        Assert.Contains($"--resume {started.Path}", MaskLab.Cli.Commands.TrainCommand.Interrupted(started));
    }

    [Fact]
    public async Task Item10_SigtermWhileReadingThePhotosGivesAMessageThatMatchesTheFolder()
    {
        if (OperatingSystem.IsWindows()) return;
        var run = temp.Combine("run");
        // Face detection on a fresh cache makes the reading stage last long enough for the signal to land in it.
        var home = temp.Combine("home");
        using var p = ChildCli.Start(["train", "--data", FaultData.Root, "--out", run, "--set", "epochs=1000000", "--set", "face_crop=detect",
            .. FaultData.TinySet], new Dictionary<string, string> { ["MASKLAB_HOME"] = home });
        var stderr = p.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        string? lineOut;
        while ((lineOut = await p.StandardOutput.ReadLineAsync()) is not null && !lineOut.StartsWith("reading", StringComparison.Ordinal))
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), "train never started reading");
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", p.Id.ToString()]) { UseShellExecute = false })!) kill.WaitForExit();
        _ = p.StandardOutput.ReadToEndAsync();
        Assert.True(p.WaitForExit(60_000), "SIGTERM did not stop the run");
        var errors = await stderr;
        Assert.True(p.ExitCode == 143, $"exit {p.ExitCode}: {errors}");
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        if (File.Exists(Path.Combine(run, "config.yaml")))
        {
            Assert.Contains($"--resume {run}", line);
        }
        else
        {
            Assert.DoesNotContain("--resume", line);
            Assert.Contains("nothing to resume", line);
        }
    }

    // ---- 12: ceiling --fit-people ----

    [Fact]
    public void Item12_CeilingFitPeopleMessagesNameTheOptionAndItsRealRange()
    {
        var small = OneLineError(CliHarness.Run("ceiling", "--data", FaultData.Root, "--fit-people", "5"), "--fit-people 5");
        Assert.Contains($"0 (the set's own training people) or {MaskLab.Evaluation.Ceiling.MinFitPeople}..", small);
        Assert.DoesNotContain("has 5 training people", small);
        var negative = OneLineError(CliHarness.Run("ceiling", "--data", FaultData.Root, "--fit-people", "-1"), "--fit-people -1");
        Assert.Contains($"or {MaskLab.Evaluation.Ceiling.MinFitPeople}..", negative);
        var e = Assert.Throws<MaskLabInputException>(() => MaskLab.Evaluation.Ceiling.Estimate(FaultData.Root, 5));
        Assert.Contains("--fit-people 5 draws too few people", e.Message);
    }

    // ---- 13: a sweep of many seeds ----

    [Fact]
    public void Item13_ASweepTooLargeIsCountedInWordsThatReadRight()
    {
        var sweep = temp.Combine("seeds.yaml");
        File.WriteAllText(sweep, $"base:\n  model: baseline\nseeds: [{string.Join(", ", Enumerable.Range(1, 100_000))}]\n");
        var line = OneLineError(CliHarness.Run("sweep", "--config", sweep, "--out", temp.Combine("sw"), "--dry-run"), "100,000 runs");
        Assert.Contains("(the base setting, each at 100,000 seeds)", line);
        Assert.DoesNotContain("(,", line);
        File.WriteAllText(sweep, $"base:\n  model: baseline\nseeds: [1, 2]\ngrid:\n  lr: [{string.Join(", ", Enumerable.Range(1, 101).Select(i => i * 1e-4))}]\n  weight_decay: [{string.Join(", ", Enumerable.Range(1, 50).Select(i => i * 1e-5))}]\n");
        var grid = OneLineError(CliHarness.Run("sweep", "--config", sweep, "--out", temp.Combine("sw"), "--dry-run"), "10,100 runs");
        Assert.Contains("(101 lr x 50 weight_decay grid settings, each at 2 seeds)", grid);
    }
}
