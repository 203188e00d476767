using System.Diagnostics;
using MaskLab.Runs;
using MaskLab.Training;

namespace MaskLab.Tests;

/// <summary>One tiny run trained once, for the tests that damage or remove its files.</summary>
public sealed class TrainedTinyRun : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("masklab-reliability-run-").FullName;

    public TrainedTinyRun()
    {
        var r = CliHarness.Run(["train", "--data", FaultData.Root, "--out", Run, "--set", "epochs=2", .. FaultData.TinySet]);
        if (r.ExitCode != 0) throw new InvalidOperationException(r.Stderr);
    }

    public string Run => Path.Combine(Dir, "run");

    /// <summary>A copy of the run a test may damage.</summary>
    public string Copy(string name)
    {
        var to = Path.Combine(Dir, name);
        foreach (var file in Directory.EnumerateFiles(Run, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(Run, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return to;
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// The defects of issue 14, each through the real entry point: inputs checked before the first step, refused runs
/// leave no folder, the checkpoint used is named and never swapped, causes named right, a full disk or a read-only
/// folder is a one-line error, a size the machine cannot hold is refused with the estimate.
/// </summary>
[Collection(CliConsoleCollection.Name)]
public sealed class ReliabilityCliTests(TrainedTinyRun trained) : IClassFixture<TrainedTinyRun>, IDisposable
{
    readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    static CliResult Train(string data, string run, params string[] extra) =>
        CliHarness.Run(["train", "--data", data, "--out", run, "--set", "epochs=1", .. FaultData.TinySet, .. extra]);

    static string OneLineError(CliResult r, string expected) => CliAssert.OneLineError(r, expected);

    // ---- 3, 7: every input checked before the first step; a refused run leaves nothing ----

    [Fact]
    public void AnEvalPhotoMissingFromInfoCsvIsRefusedBeforeTraining()
    {
        var data = FaultData.CopyTo(temp.Combine("data"));
        var photo = Directory.GetFiles(Path.Combine(data, "eval", "images"))[0];
        File.Delete(photo);
        var run = temp.Combine("run");
        var clock = Stopwatch.StartNew();
        var line = OneLineError(Train(data, run, "--set", "epochs=50"), Path.GetFileName(photo));
        Assert.Contains("info.csv", line);
        Assert.False(Directory.Exists(run), "a run refused for its inputs left a folder");
        // Fifty epochs would take minutes; the refusal comes before the first.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
    }

    [Fact]
    public void AnUnreadableEvalPhotoOrAnswersThatDisagreeAreRefusedBeforeTraining()
    {
        var data = FaultData.CopyTo(temp.Combine("data"));
        var photo = Directory.GetFiles(Path.Combine(data, "eval", "images"))[0];
        var bytes = File.ReadAllBytes(photo);
        File.WriteAllBytes(photo, bytes[..(bytes.Length / 3)]);
        var run = temp.Combine("run");
        var r = Train(data, run);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("a submission needs every one", r.Stderr);
        Assert.False(Directory.Exists(run));

        File.WriteAllBytes(photo, bytes);
        var answers = Path.Combine(data, "eval", "answers.csv");
        File.WriteAllLines(answers, File.ReadAllLines(answers)[..^1]);
        OneLineError(Train(data, run), "answers.csv");
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public void DataErrorsLeaveNoRunKFoldRootOrSweepFolder()
    {
        var data = FaultData.CopyTo(temp.Combine("data"));
        var images = Path.Combine(data, "train", "images");
        Directory.Move(Directory.GetDirectories(images)[0], Path.Combine(images, "000999_other_Asian_40"));
        File.Delete(Path.Combine(data, "train", "train.csv"));

        var run = temp.Combine("run");
        OneLineError(Train(data, run), "000999_other_Asian_40");
        Assert.False(Directory.Exists(run));

        var root = temp.Combine("kfold");
        OneLineError(Train(data, root, "--set", "folds=2"), "000999_other_Asian_40");
        Assert.False(Directory.Exists(root));

        var sweepFile = temp.Combine("sweep.yaml");
        File.WriteAllText(sweepFile, "base:\n  model: baseline\n  image_size: 16x16\n  epochs: 1\nseeds: [1]\n");
        var sweep = temp.Combine("sweep");
        OneLineError(CliHarness.Run("sweep", "--config", sweepFile, "--out", sweep, "--data", data), "000999_other_Asian_40");
        Assert.False(Directory.Exists(sweep));

        // Nothing to resume or compare either.
        OneLineError(CliHarness.Run("train", "--resume", run), run);
    }

    // ---- 1: one writer (the live cross-process case is in KillTests) ----

    [Fact]
    public void KFoldRootsAndSweepFoldersHaveOneWriterToo()
    {
        var root = temp.Combine("kfold");
        using (RunLock.Acquire(root))
        {
            var line = OneLineError(Train(FaultData.Root, root, "--set", "folds=2"), $"pid {Environment.ProcessId} on host {Environment.MachineName}");
            Assert.Contains(root, line);
        }
        var sweepFile = temp.Combine("sweep.yaml");
        File.WriteAllText(sweepFile, "base:\n  model: baseline\n  image_size: 16x16\n  epochs: 1\nseeds: [1]\n");
        var sweep = temp.Combine("sweep");
        using (RunLock.Acquire(sweep))
            OneLineError(CliHarness.Run("sweep", "--config", sweepFile, "--out", sweep, "--data", FaultData.Root), $"pid {Environment.ProcessId}");
        Assert.False(Directory.Exists(root));
        Assert.False(Directory.Exists(sweep));
    }

    // ---- 8: train.csv against the folder names ----

    [Fact]
    public void TrainCsvContradictionsAreWarnedOnceWithACountAndExamples()
    {
        var data = FaultData.CopyTo(temp.Combine("data"));
        var csv = Path.Combine(data, "train", "train.csv");
        var lines = File.ReadAllLines(csv);
        var f2 = lines[2].Split(',');
        f2[3] = "abc";
        lines[2] = string.Join(',', f2);
        var f3 = lines[3].Split(',');
        f3[1] = "x";
        lines[3] = string.Join(',', f3);
        var f4 = lines[4].Split(',');
        f4[0] = lines[1].Split(',')[0];
        lines[4] = string.Join(',', f4);
        File.WriteAllLines(csv, lines);

        var r = Train(data, temp.Combine("run"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var warnings = r.Stdout.Split('\n').Where(l => l.Contains("warning:")).ToList();
        Assert.Single(warnings, w => w.Contains("train.csv"));
        var text = string.Join(" ", r.Stdout.Split('\n').SkipWhile(l => !l.Contains("train.csv disagrees")).Take(4));
        Assert.Contains("3 rows", text);
        Assert.Contains("age 'abc'", text);
        Assert.Contains("gender 'x'", text);
        Assert.Contains("repeats line 2", text);
    }

    // ---- 4: the checkpoint used is named, never swapped ----

    [Fact]
    public void AMissingBestCheckpointIsRefusedUnlessLastIsAskedFor()
    {
        var run = trained.Copy("no-best");
        // A run whose eval prediction used the best epoch's weights: eval and predict default to them.
        var config = Path.Combine(run, "config.yaml");
        File.WriteAllText(config, File.ReadAllText(config).Replace("eval_checkpoint: last", "eval_checkpoint: best"));
        var ok = CliHarness.Run("eval", "--run", run, "--data", FaultData.Root);
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.Contains("weights: best.ckpt (epoch", ok.Stdout);

        File.Delete(Path.Combine(run, "checkpoints", "best.ckpt"));
        var line = OneLineError(CliHarness.Run("eval", "--run", run, "--data", FaultData.Root), "best.ckpt");
        Assert.Contains("--checkpoint last", line);
        OneLineError(CliHarness.Run("predict", "--run", run, "--data", FaultData.Root, "--out", temp.Combine("sub.csv")), "--checkpoint last");
        Assert.False(File.Exists(temp.Combine("sub.csv")));

        var last = CliHarness.Run("eval", "--run", run, "--data", FaultData.Root, "--checkpoint", "last");
        Assert.True(last.ExitCode == 0, last.Stderr);
        Assert.Contains("weights: last.ckpt (epoch 2)", last.Stdout);
        var predicted = CliHarness.Run("predict", "--run", run, "--data", FaultData.Root, "--out", temp.Combine("sub.csv"), "--checkpoint", "last");
        Assert.True(predicted.ExitCode == 0, predicted.Stderr);
        OneLineError(CliHarness.Run("eval", "--run", run, "--data", FaultData.Root, "--checkpoint", "first"), "--checkpoint 'first'");
    }

    // ---- 5: causes named right ----

    [Fact]
    public void DamagedCheckpointsAreNamedAsDamaged()
    {
        var run = trained.Copy("damaged");
        var best = Path.Combine(run, "checkpoints", "best.ckpt");
        File.WriteAllBytes(best, File.ReadAllBytes(best)[..1000]);
        var line = OneLineError(CliHarness.Run("eval", "--run", run, "--data", FaultData.Root, "--checkpoint", "best"), "best.ckpt");
        Assert.Contains("is damaged: cut short", line);

        var last = Path.Combine(run, "checkpoints", "last.ckpt");
        File.WriteAllBytes(last, File.ReadAllBytes(last)[..^500]);
        var config = Path.Combine(run, "config.yaml");
        File.WriteAllText(config, File.ReadAllText(config).Replace("epochs: 2", "epochs: 3"));
        line = OneLineError(CliHarness.Run("train", "--resume", run), "last.ckpt");
        Assert.Contains("is damaged: cut short", line);
        Assert.DoesNotContain("optimiser", line);
    }

    [Fact]
    public void SizesPastTheLimitAndYamlErrorsNameTheirCause()
    {
        var line = OneLineError(CliHarness.Run("train", "--set", "image_size=10000x10000"), "10000x10000");
        Assert.Contains("larger than 8192x8192", line);
        OneLineError(CliHarness.Run("train", "--set", "image_size=96xabc"), "not WxH");

        var yaml = temp.Combine("broken.yaml");
        File.WriteAllText(yaml, "model: baseline\nepochs: 2\nlr: [0.1\nseed: 3\n");
        line = OneLineError(CliHarness.Run("train", "--config", yaml), yaml);
        Assert.Matches(@"line [34], column \d+", line);

        File.WriteAllText(yaml, "model: baseline\n  epochs: 2\n");
        Assert.Matches(@"line 2, column \d+", OneLineError(CliHarness.Run("train", "--config", yaml), yaml));
    }

    // ---- 2: memory ----

    [Fact]
    public void ASizeTheMachineCannotHoldIsRefusedWithTheEstimateBeforeDecoding()
    {
        var run = temp.Combine("huge");
        var line = OneLineError(Train(FaultData.Root, run, "--set", "image_size=8192x8192"), "8192x8192");
        Assert.Matches(@"needs at least [\d.]+ GB", line);
        Assert.Matches(@"this machine has [\d.]+ GB", line);
        Assert.Contains("training step", line);
        Assert.Contains("photo cache", line);
        Assert.False(Directory.Exists(run));

        OneLineError(Train(FaultData.Root, run, "--set", "image_size=1x1"), "cannot take image_size 1x1");
    }

    // ---- 6: a full disk or a read-only folder ----

    [Fact]
    public void AFullDiskDuringTrainingIsOneLineLeavesNoTemporaryFileAndResumes()
    {
        using var disk = SmallDisk.Mount(temp.Combine("disk"), "1500k");
        if (disk is null) return; // needs root for mount(8); the write-failure path itself is covered by CheckpointIntegrityTests
        var run = Path.Combine(disk.Path, "run");
        var r = Train(FaultData.Root, run, "--set", "epochs=2");
        var line = OneLineError(r, "No space left on device");
        Assert.Contains("cannot write", line);
        Assert.Empty(Tree.TemporaryFiles(disk.Path));

        disk.Resize("64m");
        var resumed = CliHarness.Run("train", "--resume", run);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Length);
        Assert.Empty(Tree.TemporaryFiles(disk.Path));
    }

    [Fact]
    public void AReadOnlyOutIsOneLineBeforeTraining()
    {
        var parent = Directory.CreateDirectory(temp.Combine("readonly")).FullName;
        using var disk = SmallDisk.Mount(parent, "8m");
        if (disk is not null)
        {
            disk.ReadOnly();
        }
        else
        {
            // Without root, permissions make the folder read-only (root would ignore them).
            if (Environment.UserName == "root" || OperatingSystem.IsWindows()) return;
            File.SetUnixFileMode(parent, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }
        try
        {
            var line = OneLineError(Train(FaultData.Root, Path.Combine(parent, "run")), Path.Combine(parent, "run"));
            Assert.Contains("cannot", line);
        }
        finally
        {
            if (disk is null && !OperatingSystem.IsWindows())
                File.SetUnixFileMode(parent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}

/// <summary>A small tmpfs mounted for a test (root only), to fill it or make it read-only; null where mount is not allowed.</summary>
public sealed class SmallDisk : IDisposable
{
    public string Path { get; }

    SmallDisk(string path) => Path = path;

    public static SmallDisk? Mount(string path, string size)
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root") return null;
        Directory.CreateDirectory(path);
        return Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", path) ? new SmallDisk(path) : null;
    }

    public void Resize(string size) => Assert.True(Run("mount", "-o", $"remount,size={size}", Path), "remount failed");

    public void ReadOnly() => Assert.True(Run("mount", "-o", "remount,ro", Path), "remount read-only failed");

    static bool Run(string file, params string[] args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { UseShellExecute = false, RedirectStandardError = true })!;
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    public void Dispose()
    {
        Run("umount", "-l", Path);
    }
}
