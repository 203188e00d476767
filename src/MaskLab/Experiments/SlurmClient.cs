using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace MaskLab.Experiments;

/// <summary>
/// Slurm's client commands (sbatch, squeue, sacct), run as processes with their arguments passed as they are. They
/// find the cluster the usual way (slurm.conf, or SLURM_CONF, which the submitted jobs inherit).
/// </summary>
internal static class SlurmClient
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Submits a script; returns the job id sbatch gave it. A refusal is one line naming the script and sbatch's words.</summary>
    public static long Submit(string script)
    {
        var (code, stdout, stderr) = Run("sbatch", ["--parsable", script]);
        // --parsable prints "ID" or "ID;cluster".
        var first = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
        if (code != 0 || !long.TryParse(first.Split(';')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            throw new MaskLabInputException($"sbatch refused {script}: {OneLine(stderr.Length > 0 ? stderr : stdout)}");
        return id;
    }

    /// <summary>
    /// squeue's tasks of the given jobs (one line per array task), or null with the reason when squeue cannot answer.
    /// Jobs Slurm has already forgotten are simply absent.
    /// </summary>
    public static (IReadOnlyList<SlurmTask>? Tasks, string? Problem) Queue(IReadOnlyCollection<long> jobs)
    {
        if (jobs.Count == 0) return ([], null);
        var (code, stdout, stderr) = TryRun("squeue", ["-h", "-r", "-t", "all", "-o", SlurmQueue.SqueueFormat, "-j", Ids(jobs)]);
        if (code == 0) return (SlurmQueue.ParseSqueue(stdout), null);
        // With one id that Slurm has purged, squeue fails rather than printing nothing.
        if (stderr.Contains("Invalid job id", StringComparison.OrdinalIgnoreCase)) return ([], null);
        return (null, $"squeue: {OneLine(stderr.Length > 0 ? stderr : stdout)}");
    }

    /// <summary>sacct's records of the given jobs, or null with the reason (accounting off, no sacct).</summary>
    public static (IReadOnlyList<SlurmTask>? Tasks, string? Problem) Accounting(IReadOnlyCollection<long> jobs)
    {
        if (jobs.Count == 0) return ([], null);
        var (code, stdout, stderr) = TryRun("sacct", ["-X", "-n", "-P", "-o", SlurmQueue.SacctFields, "-j", Ids(jobs)]);
        return code == 0 ? (SlurmQueue.ParseSacct(stdout), null) : (null, $"sacct: {OneLine(stderr.Length > 0 ? stderr : stdout)}");
    }

    static string Ids(IEnumerable<long> jobs) => string.Join(",", jobs.Distinct().Select(j => j.ToString(CultureInfo.InvariantCulture)));

    static string OneLine(string text) => string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    static (int Code, string Stdout, string Stderr) Run(string program, IReadOnlyList<string> args)
    {
        var result = TryRun(program, args);
        if (result.Code == NotFound)
            throw new MaskLabInputException($"{program} not found: --executor slurm needs Slurm's client commands on PATH (and SLURM_CONF where the cluster needs it)");
        return result;
    }

    const int NotFound = -2;

    static (int Code, string Stdout, string Stderr) TryRun(string program, IReadOnlyList<string> args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process process;
        try { process = Process.Start(psi)!; }
        catch (Win32Exception) { return (NotFound, "", $"{program} not found on PATH"); }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                return (-1, "", $"{program} gave no answer in {Timeout.TotalSeconds:F0} s");
            }
            return (process.ExitCode, stdout.Result, stderr.Result);
        }
    }
}
