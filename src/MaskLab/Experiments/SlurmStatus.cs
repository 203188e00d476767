using System.Globalization;
using MaskLab.Runs;

namespace MaskLab.Experiments;

public enum SlurmRunPhase { Done, Failed, Running, Pending, NotQueued }

/// <summary>
/// Where one run of a batch stands: from its run directory first (finished, diverged), then from its last Slurm
/// task (queued, running, ended without finishing the run), else not queued. <see cref="NeedsTask"/>: submitting
/// again gives it a new task.
/// </summary>
public sealed record SlurmRunStatus(SlurmUnit Unit, SlurmRunPhase Phase, string Detail, SlurmTask? Task, bool NeedsTask)
{
    /// <summary>The task last submitted for the run (12_3), listed by Slurm or not; null when it never had one.</summary>
    public string? LastTaskId { get; init; }

    /// <summary>Its task ended (or vanished) without finishing it, or the run itself failed: what a gather lists as failed.</summary>
    public bool EndedUnfinished => Phase == SlurmRunPhase.Failed || (Phase == SlurmRunPhase.NotQueued && LastTaskId is not null);

    public string PhaseText => Phase switch
    {
        SlurmRunPhase.Done => "done",
        SlurmRunPhase.Failed => "failed",
        SlurmRunPhase.Running => "running",
        SlurmRunPhase.Pending => "pending",
        _ => "not queued",
    };
}

/// <summary>A gathering job and what Slurm says of it (null: it lists the job no more).</summary>
public sealed record SlurmGather(long Job, SlurmTask? Task);

/// <summary>
/// A batch's runs, its gathering jobs, the arrays with tasks still queued or running, whether squeue answered, and
/// what Slurm could not answer (null when squeue did).
/// </summary>
public sealed record SlurmBatchStatus(IReadOnlyList<SlurmRunStatus> Runs, IReadOnlyList<SlurmGather> GatherJobs,
    IReadOnlyList<long> LiveArrays, bool QueueAnswered, string? Problem);

/// <summary>How a run's state follows from its directory and its task; pure functions.</summary>
public static class SlurmStatus
{
    /// <summary>
    /// A run's phase. <paramref name="state"/> and <paramref name="failure"/> come from its directory, <paramref name="task"/>
    /// from squeue / sacct (null: Slurm lists none), <paramref name="taskId"/> is the task last submitted for it (null:
    /// never submitted), <paramref name="logLine"/> the reason its log gives. A diverged run (failure.txt) is not given
    /// a new task: it would diverge again at the same batch, as the local executor knows too.
    /// </summary>
    public static SlurmRunStatus Classify(SlurmUnit unit, RunState state, string? failure, int epochsDone, SlurmTask? task,
        string? taskId, string? logLine) =>
        Phase(unit, state, failure, epochsDone, task, taskId, logLine) with { LastTaskId = taskId };

    static SlurmRunStatus Phase(SlurmUnit unit, RunState state, string? failure, int epochsDone, SlurmTask? task,
        string? taskId, string? logLine)
    {
        var progress = $"{epochsDone.ToString(CultureInfo.InvariantCulture)}/{unit.Epochs?.ToString(CultureInfo.InvariantCulture) ?? "auto"} epochs";
        if (state == RunState.Finished) return new(unit, SlurmRunPhase.Done, "", task, false);
        if (state == RunState.Failed) return new(unit, SlurmRunPhase.Failed, FirstLine(failure ?? "failed"), task, false);
        if (task is { IsLive: true })
            return task.IsPending
                ? new(unit, SlurmRunPhase.Pending, $"task {task.Id} pending ({task.Reason ?? "queued"})", task, false)
                : new(unit, SlurmRunPhase.Running, $"task {task.Id} {task.State.ToLowerInvariant()}, {progress}", task, false);
        if (task is not null)
        {
            var exit = ExitText(task.ExitCode);
            var why = logLine is null ? "" : $": {logLine}";
            return new(unit, SlurmRunPhase.Failed, $"task {task.Id} {task.State}{exit} at {progress}{why}", task, true);
        }
        if (taskId is not null)
            return new(unit, SlurmRunPhase.NotQueued, $"task {taskId} is no longer listed by Slurm; the run stopped at {progress}{(logLine is null ? "" : $": {logLine}")}", null, true);
        return new(unit, SlurmRunPhase.NotQueued, state == RunState.Unfinished ? $"unfinished at {progress}, no task queued" : "not submitted", null, true);
    }

    /// <summary>sacct's "status:signal" as words: " (exit 1)", " (signal 9)", nothing for 0:0 or unknown.</summary>
    public static string ExitText(string? exitCode)
    {
        if (exitCode is null) return "";
        var parts = exitCode.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[0], out var status) || !int.TryParse(parts[1], out var signal)) return "";
        if (signal != 0) return $" (signal {signal.ToString(CultureInfo.InvariantCulture)})";
        return status != 0 ? $" (exit {status.ToString(CultureInfo.InvariantCulture)})" : "";
    }

    static string FirstLine(string text) => text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? text;

    /// <summary>Reads the run directories, squeue, sacct and the task logs; one answer per run of the batch.</summary>
    public static SlurmBatchStatus Of(SlurmBatch batch)
    {
        var submissions = batch.Submissions();
        var arrays = submissions.Where(s => s.ArrayJob is not null).Select(s => s.ArrayJob!.Value).ToList();
        var gathers = submissions.Where(s => s.GatherJob is not null).Select(s => s.GatherJob!.Value).ToList();
        var jobs = arrays.Concat(gathers).Distinct().ToList();

        var (queue, queueProblem) = SlurmClient.Queue(jobs);
        var (acct, acctProblem) = SlurmClient.Accounting(jobs);
        var known = SlurmQueue.Merge(queue ?? [], acct ?? []);
        // sacct is optional (a cluster without accounting): say so only where squeue cannot answer either.
        string? problem = queue is null ? string.Join("; ", new[] { queueProblem, acctProblem }.Where(p => p is not null)) : null;

        var lastArray = batch.LastArrayOf();
        var runs = batch.Units.Select(u =>
        {
            var state = RunStates.Of(u.Dir, u.Epochs);
            string? failure = state == RunState.Failed ? u.Dir.ReadFailure() : null;
            SlurmTask? task = null;
            string? taskId = null, logLine = null;
            if (lastArray.TryGetValue(u.Index, out var array))
            {
                taskId = $"{array}_{u.Index}";
                task = known.GetValueOrDefault((array, u.Index));
                if (state is not (RunState.Finished or RunState.Failed) && task is not { IsLive: true })
                    logLine = ReadFailureLine(batch.TaskLog(array, u.Index));
            }
            return Classify(u, state, failure, EpochsDone(u.Dir), task, taskId, logLine);
        }).ToList();

        var gatherTasks = gathers.Select(g => new SlurmGather(g, known.GetValueOrDefault((g, (int?)null)))).ToList();
        var liveArrays = arrays.Distinct().Where(a => known.Values.Any(t => t.JobId == a && t.IsLive)).ToList();
        return new SlurmBatchStatus(runs, gatherTasks, liveArrays, queue is not null, problem);
    }

    static int EpochsDone(RunDirectory dir)
    {
        try { return dir.ReadMetrics().Count; }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException) { return 0; }
    }

    /// <summary>The failure line of a task log, read from its last 64 KiB (the end says why it stopped).</summary>
    static string? ReadFailureLine(string log)
    {
        if (!File.Exists(log)) return null;
        try
        {
            using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            stream.Seek(Math.Max(0, stream.Length - 65536), SeekOrigin.Begin);
            return SlurmQueue.FailureLine(new StreamReader(stream).ReadToEnd());
        }
        catch (IOException) { return null; }
    }
}
