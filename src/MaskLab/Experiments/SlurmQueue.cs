using System.Globalization;

namespace MaskLab.Experiments;

/// <summary>
/// What Slurm says about one job or array task: <c>12_3</c> is task 3 of array job 12, <c>15</c> a plain job.
/// <see cref="ExitCode"/> is sacct's "status:signal" where known.
/// </summary>
public sealed record SlurmTask(long JobId, int? Index, string State, string? Reason = null, string? ExitCode = null)
{
    /// <summary>Slurm's end states; any other state (pending, running, completing, suspended, requeued, ...) is live.</summary>
    static readonly HashSet<string> Ended = ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
        "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY", "REVOKED"];

    /// <summary>Still queued or running (unknown states count as live, so a run is never submitted twice).</summary>
    public bool IsLive => !Ended.Contains(State);

    public bool IsPending => State == "PENDING";

    public string Id => Index is { } i ? $"{JobId}_{i}" : JobId.ToString(CultureInfo.InvariantCulture);
}

/// <summary>squeue's and sacct's answers, parsed; pure functions.</summary>
internal static class SlurmQueue
{
    /// <summary>squeue's format for <see cref="ParseSqueue"/>: one task per line with -r.</summary>
    public const string SqueueFormat = "%i|%T|%r";
    /// <summary>sacct's fields for <see cref="ParseSacct"/> (with -X -n -P).</summary>
    public const string SacctFields = "JobID,State,ExitCode";

    /// <summary>Lines of <c>squeue -h -r -t all -o '%i|%T|%r'</c>; a pending range such as 12_[2-3%1] gives a task per index.</summary>
    public static IReadOnlyList<SlurmTask> ParseSqueue(string text) =>
        Lines(text).SelectMany(f => Expand(f[0], f.Length > 1 ? f[1] : "", f.Length > 2 ? NullIfNone(f[2]) : null, null)).ToList();

    /// <summary>
    /// Lines of <c>sacct -X -n -P -o JobID,State,ExitCode</c>: "CANCELLED by 0" is CANCELLED, steps (12_3.batch)
    /// are skipped, and a pending range gives a task per index.
    /// </summary>
    public static IReadOnlyList<SlurmTask> ParseSacct(string text) =>
        Lines(text).Where(f => !f[0].Contains('.'))
            .SelectMany(f => Expand(f[0], f.Length > 1 ? f[1].Split(' ')[0] : "", null, f.Length > 2 ? f[2] : null)).ToList();

    /// <summary>
    /// Each task's latest word: squeue's where it answers (it sees live tasks as they are), else sacct's. sacct can
    /// list an index twice (a pending range written before one of them started): the live or later row wins.
    /// </summary>
    public static IReadOnlyDictionary<(long Job, int? Index), SlurmTask> Merge(IEnumerable<SlurmTask> squeue, IEnumerable<SlurmTask> sacct)
    {
        var byId = new Dictionary<(long, int?), SlurmTask>();
        foreach (var t in sacct)
            if (!byId.TryGetValue((t.JobId, t.Index), out var had) || !t.IsPending || had.IsPending) byId[(t.JobId, t.Index)] = t;
        foreach (var t in squeue)
        {
            // squeue leaves a finished task's exit code out; keep sacct's.
            var exit = byId.TryGetValue((t.JobId, t.Index), out var had) ? had.ExitCode : null;
            byId[(t.JobId, t.Index)] = t with { ExitCode = exit };
        }
        return byId;
    }

    static IEnumerable<string[]> Lines(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).Select(l => l.Split('|'));

    static string? NullIfNone(string reason) => reason is "" or "None" ? null : reason;

    static IEnumerable<SlurmTask> Expand(string id, string state, string? reason, string? exit)
    {
        int us = id.IndexOf('_');
        if (us < 0)
        {
            if (long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var plain)) yield return new SlurmTask(plain, null, state, reason, exit);
            yield break;
        }
        if (!long.TryParse(id.AsSpan(0, us), NumberStyles.None, CultureInfo.InvariantCulture, out var job)) yield break;
        var rest = id[(us + 1)..];
        if (rest.StartsWith('[') && rest.EndsWith(']')) rest = rest[1..^1];
        foreach (var i in Indices(rest)) yield return new SlurmTask(job, i, state, reason, exit);
    }

    /// <summary>The indices of an array spec such as "1,3-5%2" (the throttle ignored); empty for anything unreadable.</summary>
    public static IReadOnlyList<int> Indices(string spec)
    {
        var list = new List<int>();
        var body = spec.Split('%')[0];
        foreach (var part in body.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var ends = part.Split('-');
            if (ends.Length == 1 && int.TryParse(ends[0], NumberStyles.None, CultureInfo.InvariantCulture, out var one)) list.Add(one);
            else if (ends.Length == 2 && int.TryParse(ends[0], NumberStyles.None, CultureInfo.InvariantCulture, out var a)
                     && int.TryParse(ends[1], NumberStyles.None, CultureInfo.InvariantCulture, out var b) && a <= b)
                for (int i = a; i <= b; i++) list.Add(i);
            else return [];
        }
        return list;
    }

    /// <summary>
    /// The line of a task's log that says why it ended: masklab's own error, else Slurm's notice (cancelled, time
    /// limit, memory), else the first line naming an error or exception; null when none does.
    /// </summary>
    public static string? FailureLine(string log)
    {
        var lines = log.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        return lines.FirstOrDefault(l => l.StartsWith("masklab: error:", StringComparison.Ordinal))
            // "slurmstepd: error: *** JOB 80 ON vm CANCELLED AT ... ***" (slurmstepd-<host>: in newer versions)
            ?? lines.FirstOrDefault(l => l.StartsWith("slurmstepd", StringComparison.Ordinal) && l.Contains("***"))
            ?? lines.FirstOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)
                                         || l.Contains("exception", StringComparison.OrdinalIgnoreCase));
    }
}
