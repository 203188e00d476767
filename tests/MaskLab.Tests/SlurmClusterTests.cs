using System.Diagnostics;
using System.Text.Json;

namespace MaskLab.Tests;

/// <summary>
/// A test against a real Slurm (scripts/slurm-local.sh). It runs wherever Slurm is meant to be up, and fails with one
/// line where SLURM_CONF is unset; only MASKLAB_NO_SLURM=1 skips it, visibly, for a machine without Slurm (./test.sh
/// sets it where it cannot start one), and never under CI (CI=true), where Slurm must be there.
/// </summary>
public sealed class SlurmFactAttribute : FactAttribute
{
    public const string OptOut = "MASKLAB_NO_SLURM";

    public SlurmFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(OptOut) == "1" && Environment.GetEnvironmentVariable("CI") != "true")
            Skip = $"{OptOut}=1: the tests against a real Slurm are skipped (start one with scripts/slurm-local.sh start)";
    }
}

/// <summary>Waits on the local Slurm the way a user would: through the batch's status.</summary>
static class LocalSlurm
{
    public static void Require()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SLURM_CONF")))
            Assert.Fail("SLURM_CONF is unset: start Slurm (sudo scripts/slurm-local.sh start; eval \"$(scripts/slurm-local.sh env)\"; ./test.sh does both where it can), or set MASKLAB_NO_SLURM=1 to skip the Slurm tests");
    }

    /// <summary>Polls until <paramref name="done"/> holds; fails with the batch's state and the tasks' log ends.</summary>
    public static SlurmBatchStatus WaitFor(SlurmBatch batch, Func<SlurmBatchStatus, bool> done, string what, int seconds = 300)
    {
        var watch = Stopwatch.StartNew();
        SlurmBatchStatus status;
        while (!done(status = SlurmStatus.Of(batch)))
        {
            if (watch.Elapsed.TotalSeconds > seconds)
                Assert.Fail($"{what}: not within {seconds} s. Runs: {string.Join("; ", status.Runs.Select(r => $"{r.Unit.Name} {r.PhaseText} {r.Detail}"))}. " +
                            $"Gathers: {string.Join(", ", status.GatherJobs.Select(g => $"{g.Job} {g.Task?.State}"))}. Logs: {LogTails(batch)}");
            Thread.Sleep(250);
        }
        return status;
    }

    /// <summary>Until gathering job <paramref name="gather"/> has ended; it must end COMPLETED.</summary>
    public static SlurmBatchStatus WaitForGather(SlurmBatch batch, long gather)
    {
        var status = WaitFor(batch, s => s.GatherJobs.Any(g => g.Job == gather && g.Task is { IsLive: false }), $"gathering job {gather} to end");
        var task = status.GatherJobs.Single(g => g.Job == gather).Task!;
        Assert.True(task.State == "COMPLETED", $"gathering job {gather} ended {task.State}: {LogTails(batch)}");
        return status;
    }

    static string LogTails(SlurmBatch batch) => !Directory.Exists(batch.SlurmDir) ? "(none)" : string.Join(" | ",
        Directory.GetFiles(batch.SlurmDir, "*.out").Order().Select(f => $"{Path.GetFileName(f)}: {string.Join(" / ", File.ReadAllLines(f).TakeLast(3))}"));

    /// <summary>results.csv without the two timing columns, which differ between any two runs.</summary>
    public static string[] ResultsWithoutTimes(string dir)
    {
        var lines = File.ReadAllLines(Path.Combine(dir, "results.csv"));
        var header = lines[0].Split(',');
        int[] keep = Enumerable.Range(0, header.Length).Where(i => header[i] is not ("train_seconds" or "train_images_per_second")).ToArray();
        return lines.Select(l => string.Join(",", keep.Select(i => l.Split(',')[i]))).ToArray();
    }

    public static JsonElement Machine(string run) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metadata.json"))).RootElement.GetProperty("machine");
}

/// <summary>
/// Sweeps and k-fold runs through sbatch on a real Slurm, end to end, against the local executor on the same seeds;
/// a cancelled task resubmitted; a failed task listed by the gathering job. Baseline model, 24x32 photos, 1-2 epochs,
/// one libtorch thread per task on both sides so that the results match to the digit.
/// </summary>
[Collection(CliConsoleCollection.Name)]
public class SlurmClusterTests
{
    static string Base(string extra = "") => $"""
        base:
          model: baseline
          image_size: 24x32
          batch_size: 16
          warmup_epochs: 0
          threads: 1
          data: {TinySynthetic.Root}
        {extra}
        """;

    [SlurmFact]
    public void FourRunSweepOnSlurmGivesTheLocalExecutorsResults()
    {
        LocalSlurm.Require();
        using var dir = new TempDir();
        var file = dir.Combine("sweep.yaml");
        File.WriteAllText(file, Base("  epochs: 2") + "\nseeds: [1, 2]\ngrid:\n  loss: [cross_entropy, focal]\n");
        var onSlurm = dir.Combine("slurm");
        string[] submit = ["sweep", "--config", file, "--out", onSlurm, "--executor", "slurm", "--max-parallel", "2", "--cpus-per-run", "1"];

        var r = CliHarness.Run(submit);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var batch = SlurmBatch.Open(onSlurm);
        var first = Assert.Single(batch.Submissions());
        Assert.Equal([0, 1, 2, 3], first.Runs);
        Assert.Contains($"jobs: {first.ArrayJob} {first.GatherJob}", r.Stdout);
        var script = File.ReadAllText(Path.Combine(onSlurm, "slurm", "sweep.sbatch"));
        Assert.Contains("#SBATCH --array=0-3%2\n", script);
        Assert.Contains($"#SBATCH --output={onSlurm}/slurm/%A_%a.out\n", script);
        Assert.Contains($"sweep task --out {onSlurm} --run-index \"$SLURM_ARRAY_TASK_ID\"\n", script);
        Assert.Contains($"sweep gather --out {onSlurm}\n", File.ReadAllText(Path.Combine(onSlurm, "slurm", "gather.sbatch")));
        Assert.Contains($"#SBATCH --dependency=afterany:{first.ArrayJob}\n", File.ReadAllText(Path.Combine(onSlurm, "slurm", "gather.sbatch")));

        // Submitted again while its tasks queue or run: no run gets a second task.
        var again = CliHarness.Run(submit);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("no run needs a task", again.Stdout);
        Assert.Contains("jobs: - -", again.Stdout);
        Assert.Single(batch.Submissions());

        // Meanwhile the local executor trains the same sweep here.
        var local = dir.Combine("local");
        var l = CliHarness.Run("sweep", "--config", file, "--out", local);
        Assert.True(l.ExitCode == 0, l.Stderr);

        var status = LocalSlurm.WaitForGather(batch, first.GatherJob!.Value);
        Assert.All(status.Runs, s => Assert.Equal(SlurmRunPhase.Done, s.Phase));
        var slurmRows = LocalSlurm.ResultsWithoutTimes(onSlurm);
        Assert.Equal(5, slurmRows.Length);
        Assert.Equal(LocalSlurm.ResultsWithoutTimes(local), slurmRows);
        Assert.Contains("4 of 4 runs finished", File.ReadAllText(Path.Combine(onSlurm, "summary.md")));
        foreach (var (unit, i) in batch.Units.Select((u, i) => (u, i)))
        {
            Assert.True(File.Exists(batch.TaskLog(first.ArrayJob!.Value, i)), $"no log for task {i}");
            // One CPU asked for, one used: libtorch's threads and .NET's processor count.
            var machine = LocalSlurm.Machine(unit.Dir.Path);
            Assert.Equal(1, machine.GetProperty("torch_threads").GetInt32());
            Assert.Equal(1, machine.GetProperty("logical_cores").GetInt32());
        }

        var shown = CliHarness.Run("sweep", "status", onSlurm);
        Assert.True(shown.ExitCode == 0, shown.Stderr);
        Assert.Contains("4 runs: 4 done", shown.Stdout);
        Assert.Contains($"gathering job {first.GatherJob}: COMPLETED", shown.Stdout);
    }

    [SlurmFact]
    public void ThreeFoldRunOnSlurmGivesTheLocalOutOfFoldFile()
    {
        LocalSlurm.Require();
        using var dir = new TempDir();
        string[] config = ["--data", TinySynthetic.Root, "--set", "model=baseline", "--set", "image_size=24x32", "--set", "batch_size=16",
            "--set", "warmup_epochs=0", "--set", "threads=1", "--set", "epochs=1", "--set", "folds=3", "--set", "seed=5"];
        var onSlurm = dir.Combine("slurm");
        var r = CliHarness.Run(["train", .. config, "--out", onSlurm, "--executor", "slurm", "--max-parallel", "2"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var batch = SlurmBatch.Open(onSlurm);
        Assert.Equal(SlurmBatch.Kinds.Folds, batch.Kind);
        var first = Assert.Single(batch.Submissions());
        Assert.Equal([0, 1, 2], first.Runs);
        var folds = File.ReadAllText(Path.Combine(onSlurm, "slurm", "folds.sbatch"));
        Assert.Contains("#SBATCH --array=0-2%2\n", folds);
        Assert.Contains($"train fold --out {onSlurm} --fold-index \"$SLURM_ARRAY_TASK_ID\"\n", folds);
        Assert.Contains($"train gather --out {onSlurm}\n", File.ReadAllText(Path.Combine(onSlurm, "slurm", "gather.sbatch")));

        var local = dir.Combine("local");
        var l = CliHarness.Run(["train", .. config, "--out", local]);
        Assert.True(l.ExitCode == 0, l.Stderr);

        LocalSlurm.WaitForGather(batch, first.GatherJob!.Value);
        Assert.Equal(File.ReadAllText(Path.Combine(local, "oof.csv")), File.ReadAllText(Path.Combine(onSlurm, "oof.csv")));
        Assert.Equal(File.ReadAllText(Path.Combine(local, "submission.csv")), File.ReadAllText(Path.Combine(onSlurm, "submission.csv")));
        using var a = JsonDocument.Parse(File.ReadAllText(Path.Combine(local, "summary.json")));
        using var b = JsonDocument.Parse(File.ReadAllText(Path.Combine(onSlurm, "summary.json")));
        foreach (var key in new[] { "oof_macro_f1", "oof_accuracy", "best_val_macro_f1", "eval_macro_f1" })
            Assert.Equal(a.RootElement.GetProperty(key).GetDouble(), b.RootElement.GetProperty(key).GetDouble());
        Assert.True(File.Exists(Path.Combine(onSlurm, "report.html")));
        var shown = CliHarness.Run("sweep", "status", onSlurm);
        Assert.Contains("3 runs: 3 done", shown.Stdout);
        Assert.Contains("fold-2", shown.Stdout);
    }

    [SlurmFact]
    public void ACancelledTaskIsResubmittedAndTheGatherListsEveryFailure()
    {
        LocalSlurm.Require();
        using var dir = new TempDir();
        var file = dir.Combine("sweep.yaml");
        // Run 0 diverges, run 1 is cancelled after its first epoch, run 2 asks for more threads than its one CPU.
        File.WriteAllText(file, Base("  epochs: 1") + "\nseeds: [1]\nruns:\n  - {lr: 1e30}\n  - {epochs: 6}\n  - {lr: 0.002, threads: 4}\n");
        var outDir = dir.Combine("out");
        string[] submit = ["sweep", "--config", file, "--out", outDir, "--executor", "slurm"];
        var r = CliHarness.Run(submit);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var batch = SlurmBatch.Open(outDir);
        var first = Assert.Single(batch.Submissions());
        var cancelled = batch.Units[1];

        LocalSlurm.WaitFor(batch, _ => cancelled.Dir.ReadMetrics().Count >= 1, "run 1's first epoch", 180);
        var scancel = Process.Start("scancel", [$"{first.ArrayJob}_1"])!;
        scancel.WaitForExit();
        Assert.Equal(0, scancel.ExitCode);

        var status = LocalSlurm.WaitForGather(batch, first.GatherJob!.Value);
        Assert.Equal([SlurmRunPhase.Failed, SlurmRunPhase.Failed, SlurmRunPhase.Done], status.Runs.Select(s => s.Phase));
        Assert.InRange(cancelled.Dir.ReadMetrics().Count, 1, 5);
        Assert.Equal("CANCELLED", status.Runs[1].Task!.State);
        Assert.Equal(1, LocalSlurm.Machine(batch.Units[2].Dir.Path).GetProperty("torch_threads").GetInt32());

        // The gathering job ran after the failed and the cancelled task and lists both, each with its first line.
        var md = File.ReadAllText(Path.Combine(outDir, "summary.md"));
        Assert.Contains("1 of 3 runs finished, 2 failed", md);
        Assert.Contains($"- `{batch.Units[0].Name}`: loss became", md);
        Assert.Contains($"- `{cancelled.Name}`: task {first.ArrayJob}_1 CANCELLED", md);
        // scancel sends SIGTERM first: the task stops at the next batch and its log ends with masklab's own line.
        Assert.Matches(@"CANCELLED at \d/6 epochs: masklab: error: run 1 interrupted; the last finished epoch is kept", md);
        var results = File.ReadAllLines(Path.Combine(outDir, "results.csv"));
        Assert.StartsWith($"{batch.Units[0].Name},", results[1]);
        Assert.Contains(",\"loss became", results[1]);
        Assert.Contains($",task {first.ArrayJob}_1 CANCELLED", results[2]);
        Assert.EndsWith(",", results[3]);      // the finished run has no failure
        var shown = CliHarness.Run("sweep", "status", outDir);
        Assert.Contains("1 done", shown.Stdout);
        Assert.Contains("2 failed", shown.Stdout);

        // A second submission gives a task to the cancelled run alone: the finished run is not trained twice, the
        // diverged one would diverge again.
        var done = File.ReadAllText(batch.Units[2].Dir.SummaryFile);
        var again = CliHarness.Run(submit);
        Assert.True(again.ExitCode == 0, again.Stderr);
        var second = batch.Submissions()[^1];
        Assert.Equal([1], second.Runs);
        Assert.Contains("#SBATCH --array=1\n", File.ReadAllText(batch.ScriptFile));
        Assert.Contains("not submitted again", again.Stdout);

        status = LocalSlurm.WaitForGather(batch, second.GatherJob!.Value);
        Assert.Equal([SlurmRunPhase.Failed, SlurmRunPhase.Done, SlurmRunPhase.Done], status.Runs.Select(s => s.Phase));
        // Resumed from its last epoch, not restarted: every epoch once.
        Assert.Equal([1, 2, 3, 4, 5, 6], cancelled.Dir.ReadMetrics().Select(m => m.Epoch));
        Assert.Equal(done, File.ReadAllText(batch.Units[2].Dir.SummaryFile));
        Assert.Contains("2 of 3 runs finished, 1 failed", File.ReadAllText(Path.Combine(outDir, "summary.md")));

        // Everything finished or diverged, the last gather done: nothing more to submit.
        var third = CliHarness.Run(submit);
        Assert.Contains("jobs: - -", third.Stdout);
        Assert.Equal(2, batch.Submissions().Count);
    }

    [SlurmFact]
    public void AGpuRequestReachesSbatchAndARefusalIsOneLine()
    {
        LocalSlurm.Require();
        using var dir = new TempDir();
        var file = dir.Combine("sweep.yaml");
        File.WriteAllText(file, Base("  epochs: 1") + "\nseeds: [1]\n");
        var outDir = dir.Combine("out");

        var cpu = CliHarness.Run("sweep", "--config", file, "--out", outDir, "--set", "device=cpu", "--executor", "slurm", "--gpus-per-run", "1");
        Assert.Equal(2, cpu.ExitCode);
        Assert.Contains("set device: auto", cpu.Stderr);

        // This Slurm has no GPU, so sbatch refuses the job; the refusal comes back as one line naming the script.
        var gpu = CliHarness.Run("sweep", "--config", file, "--out", outDir, "--executor", "slurm", "--gpus-per-run", "1", "--partition", "local");
        Assert.Equal(2, gpu.ExitCode);
        Assert.Single(gpu.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("sbatch refused", gpu.Stderr);
        var script = File.ReadAllText(Path.Combine(outDir, "slurm", "sweep.sbatch"));
        Assert.Contains("#SBATCH --gres=gpu:1\n", script);
        Assert.Contains("#SBATCH --partition=local\n", script);
        Assert.Empty(SlurmBatch.Open(outDir).Submissions());
    }
}
