using System.Diagnostics;

namespace MaskLab.Tests;

/// <summary>
/// The defects of issue 21, one test each through the real entry point: a run never written into what is not a run,
/// inputs bounded (symlinked layouts, FIFOs, devices, huge configs and plans), causes named right, caches that heal,
/// and SIGTERM handled as Ctrl+C is.
/// </summary>
[Collection(CliConsoleCollection.Name)]
public sealed class ReliabilityRoundTwoTests : IDisposable
{
    readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    static CliResult Train(string data, string run, params string[] extra) =>
        CliHarness.Run(["train", "--data", data, "--out", run, "--set", "epochs=1", .. FaultData.TinySet, .. extra]);

    static string OneLineError(CliResult r, string expected)
    {
        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}: {r.Stderr}");
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("masklab: error:", line);
        Assert.Contains(expected, line);
        Assert.DoesNotContain("   at ", r.Stderr + r.Stdout);
        Assert.DoesNotContain("frame #", r.Stderr + r.Stdout);
        Assert.DoesNotContain("internal error", r.Stderr);
        return line;
    }

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
        Assert.Equal(["checkpoints", "config.yaml"], Directory.GetFileSystemEntries(run).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray());

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
}
