using System.Globalization;
using System.Text;

namespace MaskLab.Experiments;

/// <summary>
/// One sbatch script: the job's name, its log, where it runs, the resources of <see cref="SlurmOptions"/>, and the
/// masklab command it runs. With <see cref="Array"/> it is a job array whose tasks append their index to the command.
/// </summary>
/// <param name="Output">Log file pattern (%A array job id, %a task index, %j job id); stdout and stderr both go there.</param>
/// <param name="Array">The array's index list with its throttle (<see cref="SlurmScript.ArraySpec"/>); null: a single job.</param>
/// <param name="Dependency">An sbatch dependency such as afterany:12:15; null: none.</param>
public sealed record SlurmJobScript(string JobName, string Comment, string Output, string WorkDir, SlurmOptions Resources,
    IReadOnlyList<string> Command, string? Array = null, string? Dependency = null);

/// <summary>The text of sbatch scripts and the small forms Slurm reads; pure functions.</summary>
public static class SlurmScript
{
    /// <summary>
    /// Slurm's --array value for the given task indices: runs of consecutive indices as ranges ("0-3", "1,3,5-7"),
    /// then "%K" when at most K may run at once.
    /// </summary>
    public static string ArraySpec(IEnumerable<int> indices, int? maxParallel)
    {
        var sorted = indices.Distinct().Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("a job array needs at least one index", nameof(indices));
        if (sorted[0] < 0) throw new ArgumentException("array indices are 0 or more", nameof(indices));
        var parts = new List<string>();
        for (int i = 0; i < sorted.Length;)
        {
            int j = i;
            while (j + 1 < sorted.Length && sorted[j + 1] == sorted[j] + 1) j++;
            parts.Add(j == i ? Num(sorted[i]) : $"{Num(sorted[i])}-{Num(sorted[j])}");
            i = j + 1;
        }
        var spec = string.Join(",", parts);
        return maxParallel is { } k ? $"{spec}%{Num(k)}" : spec;
    }

    static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The script: #SBATCH lines (so the file alone resubmits the same job with <c>sbatch FILE</c>), then the
    /// thread limits from the CPUs Slurm gave the task, then the command. An array task's command gets its
    /// SLURM_ARRAY_TASK_ID as the last argument.
    /// </summary>
    public static string Text(SlurmJobScript job)
    {
        var r = job.Resources;
        var sb = new StringBuilder();
        sb.Append("#!/bin/bash\n");
        foreach (var line in job.Comment.Split('\n')) sb.Append("# ").Append(line).Append('\n');
        void Opt(string name, string? value)
        {
            if (value is null) return;
            sb.Append("#SBATCH --").Append(name).Append('=').Append(SbatchValue(value)).Append('\n');
        }
        Opt("job-name", job.JobName);
        Opt("array", job.Array);
        Opt("dependency", job.Dependency);
        Opt("output", job.Output);
        Opt("chdir", job.WorkDir);
        Opt("ntasks", "1");
        Opt("cpus-per-task", Num(r.CpusPerRun));
        Opt("partition", r.Partition);
        Opt("gres", r.GpusPerRun > 0 ? $"gpu:{Num(r.GpusPerRun)}" : null);
        Opt("mem", r.Mem);
        Opt("time", r.Time);
        foreach (var arg in r.SbatchArgs) sb.Append("#SBATCH ").Append(arg).Append('\n');
        sb.Append("set -eu\n");
        // libtorch (OpenMP) and .NET (decode and generator workers follow Environment.ProcessorCount) keep to the
        // task's CPUs even where the cluster does not pin a task to them; masklab also caps libtorch itself.
        sb.Append("export OMP_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\" DOTNET_PROCESSOR_COUNT=\"${SLURM_CPUS_PER_TASK:-1}\"\n");
        sb.Append("exec ").Append(string.Join(" ", job.Command.Select(Quote)));
        if (job.Array is not null) sb.Append(" \"$SLURM_ARRAY_TASK_ID\"");
        sb.Append('\n');
        return sb.ToString();
    }

    /// <summary>A value on an #SBATCH line: as it is, or in double quotes where it holds spaces (sbatch reads those).</summary>
    static string SbatchValue(string value)
    {
        if (value.Contains('"') || value.Contains('\n') || value.Contains('\r'))
            throw new MaskLabInputException($"'{value}' cannot go into an sbatch script: it holds a quote or a line break");
        return value.Any(char.IsWhiteSpace) ? $"\"{value}\"" : value;
    }

    /// <summary>One argument for bash: in single quotes unless it is plainly safe.</summary>
    public static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or '=' or ':' or '+' or ',')
            ? arg
            : "'" + arg.Replace("'", "'\\''") + "'";
}
