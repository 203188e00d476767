using MaskLab.Platform;
using System.Globalization;
using MaskLab.Runs;

namespace MaskLab.Experiments;

/// <summary>What a submission did: the array and gathering job ids (null: none submitted) and the runs in the array.</summary>
public sealed record SlurmSubmission(long? ArrayJob, long? GatherJob, IReadOnlyList<int> Submitted, SlurmBatchStatus Before);

/// <summary>
/// Runs a batch's runs as a Slurm job array, one task per run, each task running exactly one run through the same
/// code as the local executor (a sweep's <see cref="Sweep.RunOne"/>, a k-fold run's <see cref="CrossValidation.RunFold"/>,
/// both <see cref="RunJob"/>), then a gathering job that waits for the whole array (afterany, so it runs after a
/// failed task too) and writes the tables. Submitting again gives a task only to the runs that need one: never to a
/// finished run, a diverged one, or one whose task is still queued or running.
/// </summary>
public static class SlurmExecutor
{
    /// <summary>
    /// Writes DIR/slurm/&lt;kind&gt;.sbatch and gather.sbatch and submits them. The batch comes from
    /// <see cref="PrepareSweep"/> or <see cref="PrepareFolds"/>, which have checked <paramref name="options"/> against it. <paramref name="taskCommand"/> is the
    /// masklab command a task runs (its array index is appended), <paramref name="gatherCommand"/> the gathering
    /// job's; both run in <paramref name="workDir"/>, so relative paths in the configs mean what they meant here.
    /// </summary>
    public static SlurmSubmission Submit(SlurmBatch batch, SlurmOptions options, IReadOnlyList<string> taskCommand,
        IReadOnlyList<string> gatherCommand, string workDir)
    {
        Directory.CreateDirectory(batch.SlurmDir);
        // Two submitters at once would both read the queue before either has submitted, and queue a run twice.
        using var guard = SubmitGuard(batch);

        var before = SlurmStatus.Of(batch);
        if (!before.QueueAnswered && batch.Submissions().Count > 0)
            throw new MaskLabInputException($"cannot tell which runs of '{batch.Folder}' are still queued ({before.Problem}); nothing submitted, so that no run is trained twice");

        var todo = before.Runs.Where(r => r.NeedsTask).Select(r => r.Unit.Index).ToList();
        var lastGather = before.GatherJobs.LastOrDefault();
        if (todo.Count == 0)
        {
            // Nothing to train. A gathering job is still owed where the last one is gone without having run to the end.
            bool gatherOwed = lastGather?.Task is not ({ IsLive: true } or { State: "COMPLETED" });
            if (!gatherOwed) return new SlurmSubmission(null, null, [], before);
            var alone = SubmitGather(batch, options, gatherCommand, workDir, before.LiveArrays);
            batch.Record(new SlurmSubmissionRecord(DateTimeOffset.Now, null, alone, []));
            return new SlurmSubmission(null, alone, [], before);
        }

        var kind = batch.Kind == SlurmBatch.Kinds.Sweep ? "sweep" : "folds";
        var array = SlurmScript.ArraySpec(todo, options.MaxParallel);
        var script = new SlurmJobScript($"masklab-{kind}",
            $"masklab {kind} of {batch.Folder}: one array task per run, written {DateTimeOffset.Now:yyyy-MM-dd HH:mm:ss zzz}.\n" +
            $"Tasks {array}: {string.Join(", ", todo.Select(i => $"{i.ToString(CultureInfo.InvariantCulture)}={batch.Units[i].Name}"))}",
            batch.TaskLogPattern, workDir, options, taskCommand, Array: array);
        RunDirectory.WriteAllTextAtomic(batch.ScriptFile, SlurmScript.Text(script));
        var arrayJob = SlurmClient.Submit(batch.ScriptFile);
        // Recorded at once: a failure to submit the gathering job must not leave these tasks unknown to the next call.
        batch.Record(new SlurmSubmissionRecord(DateTimeOffset.Now, arrayJob, null, todo));
        var gather = SubmitGather(batch, options, gatherCommand, workDir, [arrayJob, .. before.LiveArrays]);
        batch.Record(new SlurmSubmissionRecord(DateTimeOffset.Now, arrayJob, gather, todo));
        return new SlurmSubmission(arrayJob, gather, todo, before);
    }

    /// <summary>The options are valid, and a GPU is asked for only where every run trains on one.</summary>
    static void CheckRequest(SlurmBatch batch, SlurmOptions options)
    {
        options.Validate();
        if (options.GpusPerRun > 0 && batch.Units.FirstOrDefault(u => u.Device.Kind == DeviceTarget.Cpu) is { } cpu)
            throw new MaskLabInputException($"--gpus-per-run {options.GpusPerRun} asks Slurm for a GPU, but {cpu.Name} trains on device: cpu; set device: auto");
    }

    /// <summary>
    /// A sweep folder made ready for submission: run folders trained with another config are refused (as the local
    /// executor refuses them), and so is a changed sweep while tasks of the old one are live, since a task finds its
    /// run by index in sweep.yaml. Writes sweep.yaml, which the tasks read.
    /// </summary>
    public static SlurmBatch PrepareSweep(SweepSpec spec, SweepPlan plan, string outDir, SlurmOptions options)
    {
        var sweep = new Sweep(plan, outDir);
        foreach (var run in plan.Runs) Sweep.CheckSameConfig(sweep.Folder.Run(run), run);
        var batch = SlurmBatch.ForSweep(sweep.Folder, plan);
        // Refused before sweep.yaml is written: a refused submission leaves the folder as it found it.
        CheckRequest(batch, options);
        if (File.Exists(sweep.Folder.SpecFile) && File.ReadAllText(sweep.Folder.SpecFile) != spec.ToYaml()
            && SlurmStatus.Of(batch).LiveArrays is { Count: > 0 } live)
            throw new MaskLabInputException($"'{sweep.Folder.Path}' has tasks of another sweep.yaml queued or running (jobs {string.Join(", ", live)}): wait for them or scancel them before changing the sweep");
        sweep.WriteSpec(spec);
        return batch;
    }

    /// <summary>A k-fold run made ready for submission: its root's config.yaml written (or checked), which the fold tasks read.</summary>
    public static SlurmBatch PrepareFolds(RunConfig config, RunDirectory root, SlurmOptions options)
    {
        if (config.Fold >= 0)
            throw new MaskLabInputException($"fold {config.Fold}: with --executor slurm every fold is a task of its own; leave fold at -1");
        var batch = SlurmBatch.ForFolds(root, config);
        // Refused before the root's config.yaml is written, as a sweep is refused before its sweep.yaml.
        CheckRequest(batch, options);
        new CrossValidation(config, root).WriteRoot();
        return batch;
    }

    /// <summary>The gathering job: after every task of the given arrays has ended, however it ended.</summary>
    static long SubmitGather(SlurmBatch batch, SlurmOptions options, IReadOnlyList<string> command, string workDir, IReadOnlyList<long> after)
    {
        var kind = batch.Kind == SlurmBatch.Kinds.Sweep ? "sweep" : "folds";
        var dependency = after.Count > 0 ? "afterany:" + string.Join(":", after.Distinct().Select(a => a.ToString(CultureInfo.InvariantCulture))) : null;
        var script = new SlurmJobScript($"masklab-{kind}-gather",
            $"masklab {kind} of {batch.Folder}: gathers the runs' results once the array has ended.",
            batch.GatherLogPattern, workDir, options with { MaxParallel = null }, command, Dependency: dependency);
        RunDirectory.WriteAllTextAtomic(batch.GatherScriptFile, SlurmScript.Text(script));
        return SlurmClient.Submit(batch.GatherScriptFile);
    }

    static FileStream SubmitGuard(SlurmBatch batch)
    {
        var file = Path.Combine(batch.SlurmDir, "submit.lock");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try { return new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (DateTime.UtcNow < deadline) { Thread.Sleep(200); }
            catch (IOException) { throw new MaskLabInputException($"another submission to '{batch.Folder}' has held {file} for 30 s; try again when it is done"); }
        }
    }
}
