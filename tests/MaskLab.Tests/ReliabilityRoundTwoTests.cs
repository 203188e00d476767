using System.Diagnostics;
using System.Text;
using MaskLab.Data.Faces;
using MaskLab.Data.Layout;

namespace MaskLab.Tests;

/// <summary>
/// The defects of issue 21, one test each through the real entry point: a run never written into what is not a run,
/// inputs bounded (symlinked layouts, FIFOs, devices, huge configs and plans), causes named right, caches that heal,
/// and SIGTERM handled as Ctrl+C is.
/// </summary>
[Collection(CliConsoleCollection.Name)]
public sealed class ReliabilityRoundTwoTests(RoundTwoRuns trained) : IClassFixture<RoundTwoRuns>, IDisposable
{
    readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    static CliResult Train(string data, string run, params string[] extra) =>
        CliHarness.Run(["train", "--data", data, "--out", run, "--set", "epochs=1", .. FaultData.TinySet, .. extra]);

    static string OneLineError(CliResult r, string expected) => CliAssert.OneLineError(r, expected);

    const string TinySweep = "base:\n  model: baseline\n  image_size: 16x16\n  batch_size: 16\n  warmup_epochs: 0\n  threads: 1\n  epochs: 1\nseeds: [1]\n";

    // ---- 1: --out into a folder that is not a run ----

    [Fact]
    public void Item01_OutIntoAFolderThatIsNotARunIsRefusedAndLeavesItAsItWas()
    {
        // A user's folder holding files with the names a run writes.
        var user = Directory.CreateDirectory(temp.Combine("mine")).FullName;
        foreach (var name in new[] { "submission.csv", "summary.json", "config.yaml" }) File.WriteAllText(Path.Combine(user, name), $"my own {name}\n");
        var before = Tree.Snapshot(user);
        var line = OneLineError(Train(FaultData.Root, user), user);
        Assert.Contains("not a MaskLab run", line);
        Assert.Contains("config.yaml", line);
        Assert.Empty(Tree.Differences(before, Tree.Snapshot(user)));
        Assert.False(File.Exists(Path.Combine(user, RunDirectory.LockFileName)));

        // The same for a k-fold run and a sweep.
        OneLineError(Train(FaultData.Root, user, "--set", "folds=2"), user);
        var sweepFile = temp.Combine("sweep.yaml");
        File.WriteAllText(sweepFile, TinySweep);
        OneLineError(CliHarness.Run("sweep", "--config", sweepFile, "--out", user, "--data", FaultData.Root), user);
        OneLineError(CliHarness.Run("sweep", "--config", sweepFile, "--out", user, "--data", FaultData.Root, "--dry-run"), user);
        Assert.Empty(Tree.Differences(before, Tree.Snapshot(user)));

        // A link to the root, or a system folder named outright, is refused whatever it holds; nothing lands in /.
        var rootEntries = Directory.GetFileSystemEntries("/").Order(StringComparer.Ordinal).ToArray();
        var link = temp.Combine("to-root");
        File.CreateSymbolicLink(link, "/");
        Assert.Contains("a link to '/'", OneLineError(Train(FaultData.Root, link), "system folder"));
        OneLineError(Train(FaultData.Root, "/mnt"), "system folder");
        OneLineError(CliHarness.Run("sweep", "--config", sweepFile, "--out", link, "--data", FaultData.Root), "system folder");
        Assert.Equal(rootEntries, Directory.GetFileSystemEntries("/").Order(StringComparer.Ordinal).ToArray());

        // A run is not written into a sweep folder, nor a sweep into a run.
        var sweep = Directory.CreateDirectory(temp.Combine("sweep")).FullName;
        File.WriteAllText(Path.Combine(sweep, "sweep.yaml"), TinySweep);
        File.WriteAllText(Path.Combine(sweep, RunDirectory.LockFileName), "");
        OneLineError(Train(FaultData.Root, sweep), "holds a sweep");
        var run = Directory.CreateDirectory(temp.Combine("run", "checkpoints")).Parent!.FullName;
        File.WriteAllText(Path.Combine(run, "config.yaml"), new RunConfig().ToYaml());
        OneLineError(CliHarness.Run("sweep", "--config", sweepFile, "--out", run, "--data", FaultData.Root), "holds a run");
        Assert.Equal(["checkpoints", "config.yaml"], Directory.GetFileSystemEntries(run).Select(n => Path.GetFileName(n)!).Order(StringComparer.Ordinal).ToArray());

        // What a killed writer leaves before its first file (its lock, an empty checkpoints/) counts as empty: it resumes.
        var started = Directory.CreateDirectory(temp.Combine("started", "checkpoints")).Parent!.FullName;
        File.WriteAllText(Path.Combine(started, RunDirectory.LockFileName), "");
        Assert.Equal(FolderKind.Empty, OutFolder.Check(started, FolderKind.Run));
        Assert.Equal(FolderKind.Run, OutFolder.Check(run, FolderKind.Run));
        Assert.Equal(FolderKind.Sweep, OutFolder.Check(sweep, FolderKind.Sweep));
        Assert.Equal(FolderKind.New, OutFolder.Check(temp.Combine("new"), FolderKind.KFoldRoot));
    }

    // ---- 2: folder links in the image-folder layout ----

    [Fact]
    public void Item02_TheImageFolderLayoutFollowsNoFolderLinkAndCapsItsWalk()
    {
        var data = Fixtures.WriteImageFolder(temp.Combine("images"), ["cat", "dog"], perClass: 4);
        Directory.CreateSymbolicLink(Path.Combine(data, "cat", "up"), "..");
        Directory.CreateSymbolicLink(Path.Combine(data, "mouse"), Path.Combine(data, "dog"));
        var set = ImageFolderLayout.Read(data);
        Assert.Equal(8, set.Samples.Count);
        Assert.Equal(["cat", "dog"], set.ClassNames);
        Assert.Equal(4, set.Samples.Count(s => s.Label == 0));
        var warning = Assert.Single(set.Warnings);
        Assert.Contains("2 folder links", warning);
        Assert.Contains(Path.Combine("cat", "up"), warning);

        // Deeper than the cap, or more entries than it, is one line naming the folder.
        var deep = Fixtures.WriteImageFolder(temp.Combine("deep"), ["a", "b"]);
        var chain = Path.Combine([deep, "a", .. Enumerable.Repeat("d", ImageFolderLayout.MaxDepth + 2)]);
        Directory.CreateDirectory(chain);
        Assert.Contains("folders deep", Assert.Throws<MaskLabInputException>(() => ImageFolderLayout.Read(deep)).Message);
        Assert.Contains("more than 5 files", Assert.Throws<MaskLabInputException>(() => ImageFolderLayout.Read(data, maxEntries: 5)).Message);

        // Through the CLI: the walk of a system folder ends at once, with one line and no folder left.
        if (Directory.Exists("/sys/class"))
        {
            var clock = Stopwatch.StartNew();
            var run = temp.Combine("run");
            OneLineError(Train("/sys/class", run), "/sys/class");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
            Assert.False(Directory.Exists(run));
        }
    }

    // ---- 3: a full disk while generating photos ----

    [Fact]
    public void Item03_AFullDiskWhileGeneratingPhotosIsOneLineNamingTheFolder()
    {
        using var disk = SmallDisk.Mount(temp.Combine("disk"), "1500k");
        if (disk is null) return; // needs root for mount(8)
        var set = Path.Combine(disk.Path, "set");
        var line = OneLineError(CliHarness.Run("synth", "--out", set, "--people", "40", "--eval-people", "2", "--size", "256x256"), set);
        Assert.Contains("No space left on device", line);
        Assert.Empty(Directory.GetFileSystemEntries(disk.Path));

        // train's first-use set: the same code, drawing the default set into MASKLAB_HOME (Item11 runs that end to end).
        var cached = Path.Combine(disk.Path, "home", "synthetic-default");
        var e = Assert.Throws<MaskLabInputException>(() => SyntheticGenerator.Generate(cached, DefaultData.Options(10, 2), replaceOther: true));
        Assert.Contains($"cannot write the synthetic set '{cached}'", e.Message);
        Assert.Contains("No space left on device", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(disk.Path, "home")));
    }

    // ---- 4: two first-use runs sharing MASKLAB_HOME ----

    [Fact]
    public async Task Item04_TwoFirstUseRunsSharingMaskLabHomeTakeTurnsOnTheSyntheticSet()
    {
        // What two first-use runs do with one MASKLAB_HOME: draw the default set into the same folder at once. The lock
        // beside the set is the kernel's per open file, so threads of one process race as processes would.
        var home = temp.Combine("home");
        var options = DefaultData.Options(10, 2);
        var set = Path.Combine(home, "synthetic-default");
        using var start = new ManualResetEventSlim();
        var racers = Enumerable.Range(0, 3).Select(_ => Task.Run(() => { start.Wait(); return SyntheticGenerator.Generate(set, options, replaceOther: true); })).ToArray();
        start.Set();
        var reports = await Task.WhenAll(racers);
        Assert.Equal(1, reports.Count(r => !r.Reused));
        Assert.True(SyntheticGenerator.IsComplete(set, options));
        Assert.Equal([Path.GetFileName(set)], Directory.GetFileSystemEntries(home).Select(n => Path.GetFileName(n)!).ToArray());

        // A set left damaged in the cache (its marker overwritten) is drawn again, not refused.
        File.WriteAllBytes(Path.Combine(set, SyntheticGenerator.MarkerFile), [0x00, 0xFF, 0x13]);
        var again = SyntheticGenerator.Generate(set, options, replaceOther: true);
        Assert.False(again.Reused);
        Assert.True(SyntheticGenerator.IsComplete(set, options));
    }

    // ---- 5: sizes a model cannot take ----

    [Fact]
    public void Item05_SizesAModelCannotTakeAreRefusedByModelsAndBench()
    {
        OneLineError(CliHarness.Run("bench", "--model", "baseline", "--size", "3x3", "--steps", "1", "--warmup", "0"), "cannot take image_size 3x3");

        // models lists every model (all of them, which takes a while: its row is checked alone here), with n/a and the
        // first line of the reason where a model cannot take the size, never libtorch's C++ stack.
        var (parameters, _, reason) = MaskLab.Cli.Commands.ModelsCommand.Measure("baseline", new ModelSpec(18, 3, 3));
        Assert.Null(parameters);
        Assert.StartsWith("model baseline cannot take 3x3: ", reason);
        Assert.DoesNotContain("frame #", reason);
        Assert.DoesNotContain("Exception raised from", reason);
        Assert.True(reason!.Length < 400, reason);
        Assert.NotNull(MaskLab.Cli.Commands.ModelsCommand.Measure("baseline", new ModelSpec(18, 32, 32)).Parameters);
    }

    // ---- 6: a damaged face-box cache ----

    sealed class OneFaceDetector : IFaceDetector
    {
        public string Id => "one-face";
        public int InputSide => 64;
        public IReadOnlyList<FaceDetection> Detect(ReadOnlySpan<byte> rgb, int width, int height) => [new(new FaceBox(1, 2, width / 2f, height / 2f), 0.9f)];
        public void Dispose() { }
    }

    [Fact]
    public void Item06_ADamagedFaceBoxCacheIsRebuiltAndSaidSo()
    {
        var photos = Directory.GetFiles(Path.Combine(FaultData.Root, "eval", "images")).Order(StringComparer.Ordinal).Take(4).ToArray();
        var side = temp.Combine("face-boxes", "face-boxes-one-face.csv");
        using var detector = new OneFaceDetector();
        var first = FaceBoxStore.Ensure(side, photos, detector);
        Assert.Null(first.Report.CacheDamage);
        var good = File.ReadAllText(side);

        var random = new Random(21);
        var garbage = new byte[600];
        random.NextBytes(garbage);
        var nan = good.Split('\n');
        nan[1] = string.Join(',', nan[1].Split(',').Select((v, i) => i == 1 ? "NaN" : v));
        foreach (var damaged in new[] { garbage, Encoding.UTF8.GetBytes(string.Join('\n', nan)), Encoding.UTF8.GetBytes(good[..(good.Length / 2)] + "\u0007\u001b[2J") })
        {
            File.WriteAllBytes(side, damaged);
            var healed = FaceBoxStore.Ensure(side, photos, detector);
            var note = healed.Report.CacheDamage;
            Assert.NotNull(note);
            Assert.Contains("was damaged", note);
            Assert.Contains("found again", note);
            Assert.DoesNotContain(note, c => char.IsControl(c));
            Assert.True(note.Length < 500, note);
            Assert.Equal(first.ByPath, healed.ByPath);
            Assert.Equal(good, File.ReadAllText(side));
        }
    }

    // ---- 7: starting weights read before the run folder exists ----

    [Fact]
    public void Item07_StartingWeightsThatCannotBeReadLeaveNoRunFolder()
    {
        var run = temp.Combine("run");
        var random = new Random(7);
        foreach (var name in new[] { "garbage.safetensors", "garbage.pth" })
        {
            var bytes = new byte[3000];
            random.NextBytes(bytes);
            File.WriteAllBytes(temp.Combine(name), bytes);
            var line = OneLineError(Train(FaultData.Root, run, "--set", $"weights={temp.Combine(name)}"), temp.Combine(name));
            Assert.Contains("cannot be read", line);
            Assert.DoesNotContain("Exception", line);
            Assert.False(Directory.Exists(run), $"{name}: a refused run left its folder");
        }
        // Weights of another model: read, do not fit, refused before the folder too.
        var other = temp.Combine("other.safetensors");
        using (var model = ModelRegistry.Create("resnet18", new ModelSpec(18, 32, 32)))
        using (var stream = File.Create(other))
            TorchSharp.PyBridge.Safetensors.SaveStateDict(stream, model.state_dict());
        OneLineError(Train(FaultData.Root, run, "--set", $"weights={other}"), "do not fit");
        Assert.False(Directory.Exists(run));

        // MASKLAB_HOME/weights blocked by a file: the embedded weights' cache is refused before the conversion's
        // seconds are spent (StartingWeights reads it, as above, before the run folder exists).
        var home = Directory.CreateDirectory(temp.Combine("home")).FullName;
        File.WriteAllText(Path.Combine(home, "weights"), "not a folder");
        bool converted = false;
        var e = Assert.Throws<MaskLabInputException>(() => WeightCache.Ensure(Path.Combine(home, "weights", "w.safetensors"), "ab12",
            () => { converted = true; return []; }));
        Assert.Contains("cannot write converted weights", e.Message);
        Assert.False(converted);
    }

    // ---- 8: a sweep plan's size ----

    [Fact]
    public void Item08_ASweepPlanIsCountedBeforeItIsExpanded()
    {
        string[] keys = ["lr", "weight_decay", "momentum", "smoothing", "loss_alpha", "focal_gamma", "step_gamma", "mixup_alpha", "cutmix_alpha", "face_margin"];
        var grid = string.Join("\n", keys.Select(k => $"  {k}: [{string.Join(", ", Enumerable.Range(1, 10).Select(i => $"0.0{i:00}"))}]"));
        var file = temp.Combine("huge.yaml");
        File.WriteAllText(file, TinySweep + "grid:\n" + grid + "\n");
        var sweep = temp.Combine("sweep");
        var clock = Stopwatch.StartNew();
        var line = OneLineError(CliHarness.Run("sweep", "--config", file, "--out", sweep, "--data", FaultData.Root, "--dry-run"), "10,000,000,000 runs");
        Assert.Contains($"at most {SweepPlan.MaxRuns:N0}", line);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.False(Directory.Exists(sweep));
        // Seeds count too.
        File.WriteAllText(file, TinySweep.Replace("seeds: [1]", $"seeds: [{string.Join(", ", Enumerable.Range(0, SweepPlan.MaxRuns + 1))}]"));
        OneLineError(CliHarness.Run("sweep", "--config", file, "--out", sweep, "--data", FaultData.Root, "--dry-run"), $"{SweepPlan.MaxRuns + 1:N0} runs");
    }

    // ---- 9: configs and CSVs that are not regular files or too large ----

    [Fact]
    public void Item09_ConfigsAndCsvsThatAreDevicesFifosOrTooLargeAreRefused()
    {
        var run = temp.Combine("run");
        var fifo = MakeFifo(temp.Combine("config.yaml"));
        var big = temp.Combine("big.yaml");
        File.WriteAllText(big, "model: baseline\nnotes: " + new string('x', (int)InputFile.MaxConfigBytes) + "\n");
        foreach (var (config, expected) in new[] { ("/dev/zero", "is a character device, not a regular file"), (fifo, "is a FIFO, not a regular file"), (big, "than the 1 MiB such a file may hold") })
        {
            if (config is null || !File.Exists(config)) continue;
            OneLineError(CliHarness.Run("train", "--config", config, "--data", FaultData.Root, "--out", run), expected);
            OneLineError(CliHarness.Run("sweep", "--config", config, "--out", run, "--data", FaultData.Root), expected);
            Assert.False(Directory.Exists(run));
        }
        // A CSV of the data that is a FIFO, or larger than any real one (a sparse file, so no disk is used).
        var data = FaultData.CopyTo(temp.Combine("data"));
        var info = Path.Combine(data, "eval", "info.csv");
        using (var stream = new FileStream(info, FileMode.Open)) stream.SetLength(InputFile.MaxCsvBytes + 1);
        OneLineError(Train(data, run), "info.csv is larger (268,435,457 bytes) than the 256 MiB");
        if (MakeFifo(Path.Combine(data, "train", "train.csv")) is not null)
            OneLineError(Train(data, run), "train.csv is a FIFO");
        OneLineError(CliHarness.Run("score", "--pred", "/dev/zero", "--truth", Path.Combine(FaultData.Root, "eval", "answers.csv")), "character device");
        Assert.False(Directory.Exists(run));
    }

    /// <summary>A FIFO at <paramref name="path"/> (replacing what is there) made with mkfifo(1); null where there is none.</summary>
    static string? MakeFifo(string path)
    {
        if (!File.Exists("/usr/bin/mkfifo")) return null;
        File.Delete(path);
        using var p = Process.Start(new ProcessStartInfo("/usr/bin/mkfifo", [path]) { UseShellExecute = false })!;
        p.WaitForExit();
        return p.ExitCode == 0 ? path : null;
    }

    // ---- 10: a FIFO named like a photo ----

    [Fact]
    public async Task Item10_AFifoNamedLikeAPhotoIsRefusedNotWaitedOn()
    {
        var data = FaultData.CopyTo(temp.Combine("data"));
        var photo = Directory.GetFiles(Path.Combine(data, "train", "images"), "mask1.*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        if (MakeFifo(photo) is null) return;
        var run = temp.Combine("run");
        var r = await WithTimeout(() => Train(data, run));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"bad image: {photo}: is a FIFO, not a regular file", r.Stderr);
        Assert.False(Directory.Exists(run));

        // With --skip-bad the run trains without it; an eval photo is never skipped.
        var skipped = await WithTimeout(() => Train(data, run, "--skip-bad"));
        Assert.True(skipped.ExitCode == 0, skipped.Stderr);
        var evalPhoto = Directory.GetFiles(Path.Combine(data, "eval", "images")).Order(StringComparer.Ordinal).First();
        MakeFifo(evalPhoto);
        r = await WithTimeout(() => CliHarness.Run("predict", "--run", run, "--data", data, "--out", temp.Combine("sub.csv")));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("is a FIFO", r.Stderr);
        Assert.False(File.Exists(temp.Combine("sub.csv")));
    }

    /// <summary>The command's result; a command still running after 90 s (a FIFO opened for reading) fails the test.</summary>
    static async Task<CliResult> WithTimeout(Func<CliResult> run)
    {
        try { return await Task.Run(run).WaitAsync(TimeSpan.FromSeconds(90)); }
        catch (TimeoutException) { throw new Xunit.Sdk.XunitException("the command hung (a FIFO opened for reading?)"); }
    }

    // ---- 11: read and cache errors name their path and operation ----

    [Fact]
    public void Item11_ReadAndCacheErrorsNameTheRealPathAndOperation()
    {
        var run = temp.Combine("run");
        // A MASKLAB_HOME that cannot be written (blocked by a file): the set under it is named, not the run.
        var home = temp.Combine("home-file");
        File.WriteAllText(home, "");
        var r = ChildCli.Run(["train", "--out", run, "--set", "synth_people=10", "--set", "synth_eval_people=2", .. FaultData.TinySet],
            new Dictionary<string, string> { ["MASKLAB_HOME"] = home });
        var line = OneLineError(new CliResult(r.ExitCode, r.Stdout, r.Stderr), Path.Combine(home, "synthetic-"));
        Assert.Contains("cannot write the synthetic set", line);
        Assert.DoesNotContain("cannot write run", line);
        Assert.False(Directory.Exists(run));

        // A data folder that cannot be read is named as read, with the folder.
        if (Environment.UserName != "root" && !OperatingSystem.IsWindows())
        {
            var data = Fixtures.WriteImageFolder(temp.Combine("images"), ["cat", "dog"], perClass: 4);
            var locked = Directory.CreateDirectory(Path.Combine(data, "dog", "private")).FullName;
            File.SetUnixFileMode(locked, UnixFileMode.None);
            try { Assert.Contains("cannot read folder", OneLineError(Train(data, run), locked)); }
            finally { File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); }
        }
        else if (Directory.Exists("/proc/1"))
        {
            var result = Train("/proc", run);
            Assert.DoesNotContain("cannot write", OneLineError(result, "/proc"));
        }
        Assert.False(Directory.Exists(run));
    }

    // ---- 12: messages that name the wrong thing ----

    [Fact]
    public void Item12_MessagesNameTheRightThing()
    {
        var run = temp.Combine("run");
        OneLineError(Train(FaultData.Root, run, "--set", "epochs=-1"), "epochs -1 is not valid");

        var yaml = temp.Combine("scalar.yaml");
        File.WriteAllText(yaml, "just some words\n");
        var line = OneLineError(CliHarness.Run("train", "--config", yaml, "--data", FaultData.Root, "--out", run), "holds the single value 'just some words'");
        Assert.DoesNotContain("System.", line);
        File.WriteAllText(yaml, "- model\n- baseline\n");
        OneLineError(CliHarness.Run("train", "--config", yaml, "--data", FaultData.Root, "--out", run), "holds a list");

        // A huge value is echoed cut to about 200 characters.
        File.WriteAllText(yaml, "model: " + new string('m', 900_000) + "\n");
        line = OneLineError(CliHarness.Run("train", "--config", yaml, "--data", FaultData.Root, "--out", run), "900,000 characters");
        Assert.True(line.Length < 1000, $"{line.Length} characters");

        OneLineError(CliHarness.Run("synth", "--out", temp.Combine("set"), "--people", "99999999999"), "--people '99999999999' is not a whole number");

        // A damaged summary.json is named.
        var damaged = CopyRun(trained.Run, temp.Combine("damaged"));
        File.WriteAllText(Path.Combine(damaged, "summary.json"), "{ not json");
        OneLineError(CliHarness.Run("eval", "--run", damaged, "--data", FaultData.Root), Path.Combine(damaged, "summary.json"));
        OneLineError(CliHarness.Run("compare", damaged), Path.Combine(damaged, "summary.json"));

        // A k-fold root is scored as predict uses it, its folds soft-voted; it keeps no checkpoints/ of its own.
        var eval = CliHarness.Run("eval", "--run", trained.KFold, "--data", FaultData.Root, "--json");
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        Assert.Contains("2 folds, soft-voted", eval.Stdout);
        Assert.Contains("fold-1: last.ckpt", eval.Stdout); // each fold's eval_checkpoint (last by default)
        Assert.False(Directory.Exists(Path.Combine(trained.KFold, "checkpoints")));
    }

    static string CopyRun(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return to;
    }

    // ---- 13: predict --probs F --out F ----

    [Fact]
    public void Item13_PredictRefusesToWriteTheProbabilitiesOverTheSubmissionOrItsInputs()
    {
        var file = temp.Combine("same.csv");
        File.WriteAllText(file, "my own file\n");
        OneLineError(CliHarness.Run("predict", "--run", trained.Run, "--data", FaultData.Root, "--out", file, "--probs", file), "name the same file");
        var link = temp.Combine("link.csv");
        File.CreateSymbolicLink(link, file);
        OneLineError(CliHarness.Run("predict", "--run", trained.Run, "--data", FaultData.Root, "--out", file, "--probs", link), "name the same file");
        Assert.Equal("my own file\n", File.ReadAllText(file));

        var data = FaultData.CopyTo(temp.Combine("data"));
        var info = Path.Combine(data, "eval", "info.csv");
        var before = File.ReadAllText(info);
        OneLineError(CliHarness.Run("predict", "--run", trained.Run, "--data", data, "--out", info), "an input of this command");
        Assert.Equal(before, File.ReadAllText(info));
    }

    // ---- 14: SIGTERM, a refused resume, a person folder missing photos, a damaged checkpoint in a finished sweep run ----

    [Fact]
    public void Item14_ARefusedResumeLeavesMetadataAsItWas()
    {
        var run = CopyRun(trained.Run, temp.Combine("run"));
        var config = Path.Combine(run, "config.yaml");
        File.WriteAllText(config, File.ReadAllText(config).Replace("epochs: 1", "epochs: 2"));
        var last = Path.Combine(run, "checkpoints", "last.ckpt");
        File.WriteAllBytes(last, File.ReadAllBytes(last)[..^100]);
        var before = Tree.Snapshot(run);
        OneLineError(CliHarness.Run("train", "--resume", run), "is damaged");
        Assert.Empty(Tree.Differences(before, Tree.Snapshot(run)));
    }

    [Fact]
    public void Item14_APersonFolderMissingPhotosIsWarnedWithACount()
    {
        var data = FaultData.CopyTo(temp.Combine("data"));
        var people = Directory.GetDirectories(Path.Combine(data, "train", "images")).Order(StringComparer.Ordinal).Take(2).ToArray();
        File.Delete(Directory.GetFiles(people[0], "normal.*").Single());
        File.Delete(Directory.GetFiles(people[1], "mask2.*").Single());
        var set = DataLocator.ReadLabeled(data);
        var warning = Assert.Single(set.Warnings);
        Assert.Contains("2 person folders", warning);
        Assert.Contains($"{Path.GetFileName(people[0])} (no normal)", warning);
        Assert.Contains($"{Path.GetFileName(people[1])} (no mask2)", warning);
    }

    [Fact]
    public void Item14_ASweepRerunRefusesAFinishedRunWithADamagedCheckpoint()
    {
        var sweep = temp.Combine("sweep");
        CopyRun(trained.Sweep, sweep);
        var before = Tree.Snapshot(sweep);
        var best = Directory.GetFiles(sweep, "best.ckpt", SearchOption.AllDirectories).Single();
        File.WriteAllBytes(best, File.ReadAllBytes(best)[..^10]);
        var line = OneLineError(CliHarness.Run("sweep", "--config", trained.SweepFile, "--out", sweep, "--data", FaultData.Root), best);
        Assert.Contains("delete", line);
        var after = Tree.Snapshot(sweep);
        Assert.Equal([$"changed {Path.GetRelativePath(sweep, best)}"], Tree.Differences(before, after));
    }
}

/// <summary>Runs trained once for the tests of issue 21 that read them: a run, a k-fold run of two folds and a sweep of one run.</summary>
public sealed class RoundTwoRuns : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("masklab-round-two-").FullName;

    public string Run => Path.Combine(Dir, "run");
    public string KFold => Path.Combine(Dir, "kfold");
    public string Sweep => Path.Combine(Dir, "sweep");
    public string SweepFile => Path.Combine(Dir, "sweep.yaml");

    public RoundTwoRuns()
    {
        Check(CliHarness.Run(["train", "--data", FaultData.Root, "--out", Run, "--set", "epochs=1", .. FaultData.TinySet]));
        Check(CliHarness.Run(["train", "--data", FaultData.Root, "--out", KFold, "--set", "epochs=1", "--set", "folds=2", .. FaultData.TinySet]));
        File.WriteAllText(SweepFile, "base:\n  model: baseline\n  image_size: 16x16\n  batch_size: 16\n  warmup_epochs: 0\n  threads: 1\n  epochs: 1\nseeds: [1]\n");
        Check(CliHarness.Run("sweep", "--config", SweepFile, "--out", Sweep, "--data", FaultData.Root));
    }

    static void Check(CliResult r)
    {
        if (r.ExitCode != 0) throw new InvalidOperationException(r.Stderr);
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
