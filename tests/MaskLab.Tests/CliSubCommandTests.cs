using MaskLab.Experiments;

namespace MaskLab.Tests;

/// <summary>
/// The verbs' shared option sets and the sweep / train sub-commands: each mode is its own command (no flags checked
/// against each other by hand), the Slurm task verbs are hidden, and bad values stay one line.
/// </summary>
[Collection(CliConsoleCollection.Name)]
public class CliSubCommandTests
{
    static void OneLine(CliResult r, string expected, int code = 2)
    {
        Assert.True(r.ExitCode == code, $"exit {r.ExitCode}: {r.Stdout} {r.Stderr}");
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, line);
    }

    [Fact]
    public void AVerbsHelpListsItsOwnFormsOptionsAndItsVisibleSubCommands()
    {
        foreach (var args in new[] { new[] { "sweep", "--help" }, ["sweep", "--config", "x.yaml", "--help"] })
        {
            var sweep = CliHarness.Run(args);
            Assert.Equal(0, sweep.ExitCode);
            Assert.Contains("--config <FILE>", sweep.Stdout);
            Assert.Contains("--executor <LOCAL|SLURM>", sweep.Stdout);
            Assert.Contains("masklab sweep --config configs/loss-study.yaml --out runs/loss-study", sweep.Stdout);
            Assert.Contains("status <DIR>", sweep.Stdout);
            Assert.Matches(@"(?m)^\s+gather\b", sweep.Stdout);
            Assert.DoesNotMatch(@"(?m)^\s+task\b", sweep.Stdout.Split("COMMANDS:")[1]);
            Assert.DoesNotContain("--run-index", sweep.Stdout);
            Assert.DoesNotContain("__default_command", sweep.Stdout);
        }
        var train = CliHarness.Run("train", "--help");
        Assert.Equal(0, train.ExitCode);
        Assert.Contains("--resume <RUNDIR>", train.Stdout);
        Assert.Contains("masklab train --config configs/baseline.yaml --set epochs=5", train.Stdout);
        var commands = train.Stdout.Split("COMMANDS:")[1];
        Assert.Matches(@"(?m)^\s+gather\b", commands);
        Assert.DoesNotMatch(@"(?m)^\s+fold\b", commands);
        Assert.DoesNotContain("--fold-index", train.Stdout);
    }

    [Fact]
    public void AMistypedOptionOfAVerbsOwnFormIsNamedNotTheFirstOption()
    {
        // Spectre alone answers "Unknown option 'set'" / "'config'" here: the branch, not the form, was parsed.
        OneLine(CliHarness.Run("train", "--set", "epochs=2", "--epoch", "3"), "Unknown option 'epoch'");
        OneLine(CliHarness.Run("sweep", "--config", "s.yaml", "--out", "o", "--dryrun"), "Unknown option 'dryrun'");
        OneLine(CliHarness.Run("sweep", "--config", "s.yaml", "--out", "o", "--gather"), "Unknown option 'gather'");
        OneLine(CliHarness.Run("sweep", "stat", "o"), "Unknown command 'stat'");
    }

    [Fact]
    public void SharedOptionsAreReadOnceIntoTheirTypes()
    {
        // --device and --checkpoint are refused while the command line is read, before any file is looked at.
        OneLine(CliHarness.Run("eval", "--run", "no-such-run", "--data", "no-such-data", "--device", "tpu"), "device 'tpu': expected auto, cpu, cuda or cuda:N");
        OneLine(CliHarness.Run("predict", "--run", "no-such-run", "--data", "d", "--out", "o.csv", "--checkpoint", "first"), "--checkpoint 'first' is not best or last");
        OneLine(CliHarness.Run("bench", "--device", "cuda:x"), "device 'cuda:x'");
        // A verb that reads one run refuses a second instead of dropping it.
        OneLine(CliHarness.Run("eval", "--run", "a", "--run", "b", "--data", "d"), "--run is given 2 times");
        OneLine(CliHarness.Run("audit", "--run", "a", "--run", "b"), "--run is given 2 times");
    }

    [Fact]
    public void ClosedSetOptionsAreEnumsThatNameTheirChoices()
    {
        // Each is refused while the command line is read, before any file is looked at, with the values it takes.
        OneLine(CliHarness.Run("predict", "--run", "r", "--data", "d", "--out", "o.csv", "--vote", "maybe"), "--vote 'maybe' is not one of soft, hard");
        OneLine(CliHarness.Run("ensemble", "--run", "r", "--vote", "all"), "--vote 'all' is not one of soft, hard");
        OneLine(CliHarness.Run("compare", "r", "--sort", "size"), "--sort 'size' is not one of f1, name, speed");
        OneLine(CliHarness.Run("bench", "--precision", "fp8"), "--precision 'fp8' is not one of fp32, bf16, fp16, auto");
        OneLine(CliHarness.Run("sweep", "--config", "s.yaml", "--out", "o", "--executor", "pbs"), "--executor 'pbs' is not one of local, slurm");
        OneLine(CliHarness.Run("train", "--executor", "pbs"), "--executor 'pbs' is not one of local, slurm");
        OneLine(CliHarness.Run("export", "--model", "baseline", "--size", "32x32", "--out", "x.onnx", "--normalization", "coco"),
            "--normalization 'coco' is not one of task, imagenet");
        // A value in another case is the same choice: the verb goes on to the missing run, not to a refused option.
        OneLine(CliHarness.Run("predict", "--run", "no-such-run", "--data", "no-such-data", "--out", "o.csv", "--vote", "HARD"), "no-such-data");
    }

    [Fact]
    public void SweepGatherAndTaskReadTheSweepTheFolderHolds()
    {
        using var dir = new TempDir();
        var file = dir.Combine("s.yaml");
        File.WriteAllText(file, "base: {model: baseline, epochs: 1}\nseeds: [1, 2]\n");
        var spec = SweepSpec.Load(file, data: dir.Path);
        var outDir = dir.Combine("out");
        SlurmExecutor.PrepareSweep(spec, SweepPlan.Expand(spec), outDir, new SlurmOptions());

        OneLine(CliHarness.Run("sweep", "task", "--out", outDir, "--run-index", "2"), "run index 2 is not in the sweep");
        var gathered = CliHarness.Run("sweep", "gather", "--out", outDir);
        Assert.True(gathered.ExitCode == 0, gathered.Stderr);
        Assert.Contains("gathered 0 finished and 0 failed of 2 runs", gathered.Stdout);
        Assert.True(File.Exists(Path.Combine(outDir, "results.csv")));
        var status = CliHarness.Run("sweep", "status", outDir);
        Assert.True(status.ExitCode == 0, status.Stderr);
        Assert.Contains("2 runs: 2 not queued", status.Stdout);
    }
}
