using System.Diagnostics;
using MaskLab.Cli;

namespace MaskLab.Tests;

/// <summary>The Slurm executor's pure parts: script text, array specs, squeue / sacct parsing, run states, CPU limits. No Slurm needed.</summary>
public class SlurmScriptTests
{
    [Theory]
    [InlineData(new[] { 0, 1, 2, 3 }, 2, "0-3%2")]
    [InlineData(new[] { 3, 1 }, null, "1,3")]
    [InlineData(new[] { 8, 1, 2, 3, 5, 7, 2 }, 1, "1-3,5,7-8%1")]
    [InlineData(new[] { 4 }, null, "4")]
    public void ArraySpecJoinsConsecutiveIndicesIntoRanges(int[] indices, int? max, string expected)
    {
        Assert.Equal(expected, SlurmScript.ArraySpec(indices, max));
        // squeue / sacct read the same form back.
        Assert.Equal(indices.Distinct().Order(), SlurmQueue.Indices(expected));
    }

    [Fact]
    public void AnEmptyArrayIsRefused() => Assert.Throws<ArgumentException>(() => SlurmScript.ArraySpec([], null));

    static SlurmJobScript Job(SlurmOptions options, IReadOnlyList<string> command, string? array = "0-3%2", string? dependency = null) =>
        new("masklab-sweep", "a sweep\nsecond line", "/shared/sweep dir/slurm/%A_%a.out", "/home/u/work", options, command, array, dependency);

    [Fact]
    public void ScriptAsksForWhatTheOptionsSayAndNothingElse()
    {
        var text = SlurmScript.Text(Job(new SlurmOptions { CpusPerRun = 4 }, ["masklab", "sweep", "task", "--run-index"]));
        var sbatch = text.Split('\n').Where(l => l.StartsWith("#SBATCH")).ToArray();
        Assert.Equal([
            "#SBATCH --job-name=masklab-sweep", "#SBATCH --array=0-3%2", "#SBATCH --output=\"/shared/sweep dir/slurm/%A_%a.out\"",
            "#SBATCH --chdir=/home/u/work", "#SBATCH --ntasks=1", "#SBATCH --cpus-per-task=4"], sbatch);
        Assert.StartsWith("#!/bin/bash\n# a sweep\n# second line\n", text);
        Assert.Contains("export OMP_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\" DOTNET_PROCESSOR_COUNT=\"${SLURM_CPUS_PER_TASK:-1}\"\n", text);
        Assert.EndsWith("exec masklab sweep task --run-index \"$SLURM_ARRAY_TASK_ID\"\n", text);

        var full = SlurmScript.Text(Job(new SlurmOptions
        {
            Partition = "gpu", GpusPerRun = 1, CpusPerRun = 2, Mem = "8G", Time = "1:30:00", SbatchArgs = ["--account=lab", "--qos=high"],
        }, ["masklab", "train", "gather"], array: null, dependency: "afterany:12:15"));
        foreach (var line in new[] { "#SBATCH --partition=gpu", "#SBATCH --gres=gpu:1", "#SBATCH --mem=8G", "#SBATCH --time=1:30:00",
                     "#SBATCH --dependency=afterany:12:15", "#SBATCH --account=lab", "#SBATCH --qos=high", "#SBATCH --cpus-per-task=2" })
            Assert.Contains(line + "\n", full);
        Assert.DoesNotContain("--array", full);
        // A single job gets no task index.
        Assert.EndsWith("exec masklab train gather\n", full);
    }

    [Fact]
    public void BashRunsTheCommandWithEveryArgumentIntactAndTheTaskIndexLast()
    {
        using var dir = new TempDir();
        var script = dir.Combine("job.sbatch");
        File.WriteAllText(script, SlurmScript.Text(Job(new SlurmOptions(),
            ["printf", "%s|", "two words", "it's", "$HOME", "a\"b", "back\\slash", "*"])));
        var psi = new ProcessStartInfo("bash", [script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["SLURM_ARRAY_TASK_ID"] = "3";
        psi.Environment["SLURM_CPUS_PER_TASK"] = "2";
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        Assert.Equal("two words|it's|$HOME|a\"b|back\\slash|*|3|", output);
    }

    [Fact]
    public void AQuoteInAnSbatchValueIsRefused()
    {
        var e = Assert.Throws<MaskLabInputException>(() => SlurmScript.Text(Job(new SlurmOptions(), ["x"]) with { WorkDir = "/a\"b" }));
        Assert.Contains("/a\"b", e.Message);
    }

    [Theory]
    [InlineData(-1, 1, null, null, null, "--gpus-per-run '-1'")]
    [InlineData(0, 0, null, null, null, "--cpus-per-run '0'")]
    [InlineData(0, 1, 0, null, null, "--max-parallel '0'")]
    [InlineData(0, 1, null, "lots", null, "--mem 'lots'")]
    [InlineData(0, 1, null, null, "soon", "--time 'soon'")]
    public void BadOptionsFailInOneLineNamingTheOption(int gpus, int cpus, int? max, string? mem, string? time, string expected)
    {
        var e = Assert.Throws<MaskLabInputException>(() =>
            new SlurmOptions { GpusPerRun = gpus, CpusPerRun = cpus, MaxParallel = max, Mem = mem, Time = time }.Validate());
        Assert.StartsWith(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void GoodOptionsPassAndSbatchArgsMustBeOptions()
    {
        foreach (var time in new[] { "90", "1:30:00", "2-00:00:00", "2-12", "UNLIMITED" })
            new SlurmOptions { Time = time, Mem = "16000M", MaxParallel = 3, Partition = "gpu" }.Validate();
        var e = Assert.Throws<MaskLabInputException>(() => new SlurmOptions { SbatchArgs = ["account=lab"] }.Validate());
        Assert.Contains("--sbatch-arg 'account=lab'", e.Message);
    }
}

public class SlurmQueueTests
{
    [Fact]
    public void SqueueLinesGiveOneTaskPerIndexWithStateAndReason()
    {
        var tasks = SlurmQueue.ParseSqueue("61|COMPLETED|None\n62_0|RUNNING|None\n62_[2-3%1]|PENDING|JobArrayTaskLimit\n63|PENDING|Dependency\n\n");
        Assert.Equal(["61", "62_0", "62_2", "62_3", "63"], tasks.Select(t => t.Id));
        Assert.Equal([false, true, true, true, true], tasks.Select(t => t.IsLive));
        Assert.Null(tasks[0].Reason);
        Assert.Equal("JobArrayTaskLimit", tasks[2].Reason);
        Assert.True(tasks[4].IsPending);
    }

    [Fact]
    public void SacctSkipsStepsAndReadsCancelledByAndExitCodes()
    {
        var tasks = SlurmQueue.ParseSacct("77_0|FAILED|1:0\n77_0.batch|FAILED|1:0\n77_1|CANCELLED by 0|0:15\n77_2|COMPLETED|0:0\n78|COMPLETED|0:0\n");
        Assert.Equal(["77_0", "77_1", "77_2", "78"], tasks.Select(t => t.Id));
        Assert.Equal(["FAILED", "CANCELLED", "COMPLETED", "COMPLETED"], tasks.Select(t => t.State));
        Assert.All(tasks, t => Assert.False(t.IsLive));
        Assert.Equal("1:0", tasks[0].ExitCode);
    }

    [Fact]
    public void SqueueWinsOverSacctAndAStalePendingRangeNeverHidesARunningTask()
    {
        // sacct still lists 62_[1-3%1] as pending after 62_1 has started; squeue knows 62_1 has since ended.
        var sacct = SlurmQueue.ParseSacct("62_0|COMPLETED|0:0\n62_1|RUNNING|0:0\n62_[1-3%1]|PENDING|0:0\n");
        var merged = SlurmQueue.Merge([], sacct);
        Assert.Equal("RUNNING", merged[(62, 1)].State);
        Assert.Equal("PENDING", merged[(62, 3)].State);

        var squeue = SlurmQueue.ParseSqueue("62_1|FAILED|NonZeroExitCode\n");
        var both = SlurmQueue.Merge(squeue, SlurmQueue.ParseSacct("62_1|FAILED|2:0\n"));
        Assert.Equal("FAILED", both[(62, 1)].State);
        Assert.Equal("2:0", both[(62, 1)].ExitCode);    // squeue gives no exit code: sacct's is kept
    }

    [Fact]
    public void UnknownStatesCountAsLiveSoNoRunIsQueuedTwice()
    {
        Assert.True(new SlurmTask(1, 0, "REQUEUED").IsLive);
        Assert.True(new SlurmTask(1, 0, "SOMETHING_NEW").IsLive);
        Assert.False(new SlurmTask(1, 0, "OUT_OF_MEMORY").IsLive);
        Assert.False(new SlurmTask(1, 0, "TIMEOUT").IsLive);
    }

    [Theory]
    [InlineData("1,3-5%2", new[] { 1, 3, 4, 5 })]
    [InlineData("7", new[] { 7 })]
    [InlineData("5-3", new int[0])]
    [InlineData("a-b", new int[0])]
    public void ArrayIndicesAreReadBack(string spec, int[] expected) => Assert.Equal(expected, SlurmQueue.Indices(spec));

    [Fact]
    public void TheFailureLineIsMasklabsErrorThenSlurmsNoticeThenAnyError()
    {
        Assert.Equal("masklab: error: data folder '/x' does not exist",
            SlurmQueue.FailureLine("reading /x\nsome error earlier\nmasklab: error: data folder '/x' does not exist\n"));
        Assert.Equal("slurmstepd-vm: error: *** JOB 80 ON vm CANCELLED AT 2026-11-27T19:01:11 ***",
            SlurmQueue.FailureLine("epoch 1 ...\nslurmstepd-vm: error: *** JOB 80 ON vm CANCELLED AT 2026-11-27T19:01:11 ***\n"));
        Assert.Equal("Unhandled exception. System.OutOfMemoryException", SlurmQueue.FailureLine("epoch 1\nUnhandled exception. System.OutOfMemoryException\n   at x"));
        Assert.Null(SlurmQueue.FailureLine("epoch 1 loss 2.3\nval macro F1 0.1\n"));
    }
}

public class SlurmStatusTests
{
    static readonly SlurmUnit Unit = new(1, "loss=focal__seed=2", new RunDirectory("/nowhere/run"), 6, DeviceChoice.Auto);

    static SlurmRunStatus Of(RunState state, SlurmTask? task = null, string? taskId = null, string? failure = null, string? log = null) =>
        SlurmStatus.Classify(Unit, state, failure, 2, task, taskId, log);

    [Fact]
    public void TheRunDirectoryDecidesFirst()
    {
        // A finished run is done whatever its task says; a diverged one is failed and not retried.
        var done = Of(RunState.Finished, new SlurmTask(5, 1, "CANCELLED"), "5_1");
        Assert.Equal((SlurmRunPhase.Done, false), (done.Phase, done.NeedsTask));
        var diverged = Of(RunState.Failed, new SlurmTask(5, 1, "FAILED"), "5_1", failure: "loss became NaN at epoch 1, batch 2\nmore");
        Assert.Equal((SlurmRunPhase.Failed, false, "loss became NaN at epoch 1, batch 2"), (diverged.Phase, diverged.NeedsTask, diverged.Detail));
        Assert.True(diverged.EndedUnfinished);
    }

    [Fact]
    public void ALiveTaskIsPendingOrRunningAndNeedsNoOther()
    {
        var pending = Of(RunState.NotStarted, new SlurmTask(5, 1, "PENDING", "JobArrayTaskLimit"), "5_1");
        Assert.Equal((SlurmRunPhase.Pending, false), (pending.Phase, pending.NeedsTask));
        Assert.Equal("task 5_1 pending (JobArrayTaskLimit)", pending.Detail);
        var running = Of(RunState.Unfinished, new SlurmTask(5, 1, "RUNNING"), "5_1");
        Assert.Equal((SlurmRunPhase.Running, false, "task 5_1 running, 2/6 epochs"), (running.Phase, running.NeedsTask, running.Detail));
        Assert.False(running.EndedUnfinished);
    }

    [Fact]
    public void ATaskThatEndedWithoutFinishingTheRunIsAFailureToRetry()
    {
        var cancelled = Of(RunState.Unfinished, new SlurmTask(5, 1, "CANCELLED", ExitCode: "0:15"), "5_1",
            log: "slurmstepd: error: *** JOB 7 ON vm CANCELLED AT 2026-11-27T19:01:11 ***");
        Assert.Equal((SlurmRunPhase.Failed, true), (cancelled.Phase, cancelled.NeedsTask));
        Assert.Equal("task 5_1 CANCELLED (signal 15) at 2/6 epochs: slurmstepd: error: *** JOB 7 ON vm CANCELLED AT 2026-11-27T19:01:11 ***", cancelled.Detail);
        Assert.True(cancelled.EndedUnfinished);

        var failed = Of(RunState.NotStarted, new SlurmTask(5, 1, "FAILED", ExitCode: "2:0"), "5_1", log: "masklab: error: no photos");
        Assert.Equal("task 5_1 FAILED (exit 2) at 2/6 epochs: masklab: error: no photos", failed.Detail);
    }

    [Fact]
    public void ATaskSlurmForgotOrNoneAtAllMeansNotQueued()
    {
        var forgotten = Of(RunState.Unfinished, null, "5_1");
        Assert.Equal((SlurmRunPhase.NotQueued, true, "5_1"), (forgotten.Phase, forgotten.NeedsTask, forgotten.LastTaskId));
        Assert.True(forgotten.EndedUnfinished);
        var never = Of(RunState.NotStarted);
        Assert.Equal((SlurmRunPhase.NotQueued, true, "not submitted"), (never.Phase, never.NeedsTask, never.Detail));
        Assert.False(never.EndedUnfinished);
        Assert.Equal("unfinished at 2/6 epochs, no task queued", Of(RunState.Unfinished).Detail);
    }

    [Theory]
    [InlineData("1:0", " (exit 1)")]
    [InlineData("0:9", " (signal 9)")]
    [InlineData("0:0", "")]
    [InlineData(null, "")]
    [InlineData("x", "")]
    public void ExitCodesInWords(string? code, string expected) => Assert.Equal(expected, SlurmStatus.ExitText(code));

    [Theory]
    [InlineData("2", 2)]
    [InlineData("16", 16)]
    [InlineData("0", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    [InlineData("2(x3)", null)]
    public void SlurmCpusPerTaskIsReadAsAPositiveCount(string? text, int? expected) => Assert.Equal(expected, CpuBudget.Parse(text));

    [Theory]
    [InlineData(4, 1, 1)]     // the config asks for more than Slurm gave: capped
    [InlineData(1, 2, 1)]     // fewer is fine
    [InlineData(0, 2, 2)]     // libtorch's default would take every core of the node: the task's count instead
    [InlineData(0, null, 0)]  // outside Slurm: libtorch's default
    [InlineData(3, null, 3)]
    public void ThreadsNeverExceedTheTasksCpus(int requested, int? limit, int expected) => Assert.Equal(expected, CpuBudget.Threads(requested, limit));

    [Fact]
    public void TheLedgerKeepsEverySubmissionAndTheLatestArrayOfEachRun()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("base.yaml"), "model: baseline\n");
        File.WriteAllText(dir.Combine("s.yaml"), "base: base.yaml\nseeds: [1, 2, 3]\n");
        var spec = SweepSpec.Load(dir.Combine("s.yaml"));
        var plan = SweepPlan.Expand(spec);
        var sweep = new Sweep(plan, dir.Combine("out"));
        sweep.WriteSpec(spec);
        var batch = SlurmBatch.Open(sweep.Folder.Path);
        Assert.Equal(SlurmBatch.Kinds.Sweep, batch.Kind);
        Assert.Equal(["seed=1", "seed=2", "seed=3"], batch.Units.Select(u => u.Name));
        Assert.EndsWith("out/slurm/sweep.sbatch", batch.ScriptFile);

        Assert.Empty(batch.Submissions());
        Directory.CreateDirectory(batch.SlurmDir);
        var t = DateTimeOffset.Parse("2026-11-27T10:00:00Z");
        Record(batch, new SlurmSubmissionRecord(t, 10, null, [0, 1, 2]));
        Record(batch, new SlurmSubmissionRecord(t, 10, 11, [0, 1, 2]));   // the same array, its gather now known
        Record(batch, new SlurmSubmissionRecord(t, 20, 21, [1]));
        File.AppendAllText(batch.LedgerFile, "{\"submitted\": trunc");     // a line cut short by a crash is skipped
        Assert.Equal([(10L, 11L), (20L, 21L)], batch.Submissions().Select(s => (s.ArrayJob!.Value, s.GatherJob!.Value)));
        Assert.Equal(new Dictionary<int, long> { [0] = 10, [1] = 20, [2] = 10 }, batch.LastArrayOf());
    }

    static void Record(SlurmBatch batch, SlurmSubmissionRecord r) => batch.Record(r);

    [Fact]
    public void GatherWithoutTrainingListsTheFailuresItIsGivenAndCountsTheRest()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("s.yaml"), "base: {model: baseline}\nseeds: [1, 2, 3]\n");
        var spec = SweepSpec.Load(dir.Combine("s.yaml"));
        var plan = SweepPlan.Expand(spec);
        var rows = new Sweep(plan, dir.Combine("out")).Gather(new Dictionary<int, string> { [1] = "task 5_1 CANCELLED at 0/10 epochs" });
        var row = Assert.Single(rows);
        Assert.Equal(("seed=2", "task 5_1 CANCELLED at 0/10 epochs"), (row.Name, row.Failure));
        var md = File.ReadAllText(dir.Combine("out", "summary.md"));
        Assert.Contains("0 of 3 runs finished, 1 failed", md);
        Assert.Contains("- `seed=2`: task 5_1 CANCELLED at 0/10 epochs", md);
        Assert.Equal(2, File.ReadAllLines(dir.Combine("out", "results.csv")).Length);
    }
}

/// <summary>The executor options on the command line: refused where they make no sense, each in one line.</summary>
[Collection(CliConsoleCollection.Name)]
public class SlurmCliArgumentTests
{
    [Fact]
    public void ExecutorArgumentsAreCheckedBeforeAnythingRuns()
    {
        using var dir = new TempDir();
        var sweep = dir.Combine("s.yaml");
        File.WriteAllText(sweep, "base: {model: baseline}\nseeds: [1]\n");
        var outDir = dir.Combine("out");
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["sweep", "--config", sweep, "--out", outDir, "--executor", "pbs"], "--executor 'pbs'"),
            (["sweep", "--config", sweep, "--out", outDir, "--partition", "gpu"], "--partition is for --executor slurm"),
            (["sweep", "--config", sweep, "--out", outDir, "--executor", "slurm", "--max-parallel", "0"], "--max-parallel '0'"),
            (["sweep", "task", "--run-index", "0"], "--out DIR is required"),
            (["sweep", "task", "--out", outDir], "--run-index I is required"),
            (["sweep", "gather", "--out", outDir, "--config", sweep], "Unknown option 'config'"),
            (["sweep", "task", "--out", outDir, "--run-index", "0"], "holds no sweep.yaml"),
            (["sweep", "gather", "--out", outDir], "holds no sweep.yaml"),
            (["sweep", "status", outDir], "neither a sweep folder"),
            // The modes are sub-commands now: their old flags are unknown to the verb's own form.
            (["sweep", "--config", sweep, "--out", outDir, "--run-index", "0"], "Unknown option 'run-index'"),
            (["sweep", "--status", outDir], "Unknown option 'status'"),
            (["train", "--executor", "slurm", "--set", "model=baseline", "--out", outDir], "set folds"),
            (["train", "--executor", "slurm", "--set", "folds=3", "--set", "fold=1", "--out", outDir], "leave fold at -1"),
            (["train", "fold", "--fold-index", "0"], "--out RUNDIR is required"),
            (["train", "fold", "--out", outDir], "--fold-index K is required"),
            (["train", "gather", "--out", outDir, "--set", "epochs=2"], "Unknown option 'set'"),
            (["train", "--out", outDir, "--gather"], "Unknown option 'gather'"),
        })
        {
            var r = CliHarness.Run(args);
            Assert.True(r.ExitCode == 2, $"{string.Join(" ", args)} -> {r.ExitCode}: {r.Stdout} {r.Stderr}");
            Assert.Contains(expected, r.Stderr);
            Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        Assert.False(Directory.Exists(Path.Combine(outDir, "slurm")));
    }

    [Fact]
    public void AKFoldGatherBeforeItsFoldsNamesEachMissingFold()
    {
        using var dir = new TempDir();
        var root = new RunDirectory(dir.Combine("kfold"));
        var config = RunConfig.Load(null, ["model=baseline", "folds=3", "epochs=2", $"data={dir.Path}"]);
        var batch = SlurmExecutor.PrepareFolds(config, root, new SlurmOptions());
        Assert.Equal(["fold-0", "fold-1", "fold-2"], batch.Units.Select(u => u.Name));
        Assert.Equal(-1, root.ReadConfig().Fold);
        // The same root with another config is refused: its tasks would read the first one.
        var e = Assert.Throws<MaskLabInputException>(() => SlurmExecutor.PrepareFolds(RunConfig.Load(null, ["model=baseline", "folds=3", "epochs=3", $"data={dir.Path}"]), root, new SlurmOptions()));
        Assert.Contains("epochs=2, not 3", e.Message);

        var r = CliHarness.Run("train", "gather", "--out", root.Path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("not finished: fold-0: not submitted; fold-1: not submitted; fold-2: not submitted", r.Stderr);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(File.Exists(root.OofFile));
    }

    [Fact]
    public void TasksRunThisVeryBuildOfTheCli()
    {
        var self = SlurmView.Self();
        Assert.True(File.Exists(self[0]), self[0]);
        Assert.EndsWith("MaskLab.Cli.dll", self[^1]);
        Assert.True(File.Exists(self[^1]), self[^1]);
    }
}
