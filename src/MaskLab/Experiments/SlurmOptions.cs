using System.Globalization;
using System.Text.RegularExpressions;

namespace MaskLab.Experiments;

/// <summary>
/// What each Slurm task of a sweep or k-fold run asks for (the gathering job asks for the same), and how many tasks
/// may run at once. Null leaves the cluster's default.
/// </summary>
public sealed partial record SlurmOptions
{
    public string? Partition { get; init; }
    /// <summary>GPUs per run (--gres=gpu:N); the runs then train on device: auto.</summary>
    public int GpusPerRun { get; init; }
    /// <summary>CPUs per run (--cpus-per-task): the task's libtorch, decode and .NET worker threads.</summary>
    public int CpusPerRun { get; init; } = 1;
    /// <summary>Memory per run in Slurm's form (4G, 16000M).</summary>
    public string? Mem { get; init; }
    /// <summary>Time limit per run in Slurm's form (90, 1:30:00, 2-00:00:00).</summary>
    public string? Time { get; init; }
    /// <summary>Tasks running at once (the array's %K throttle); null: as many as the cluster will start.</summary>
    public int? MaxParallel { get; init; }
    /// <summary>Further sbatch options, one per entry (--account=lab, --qos=high), written into the script as they are.</summary>
    public IReadOnlyList<string> SbatchArgs { get; init; } = [];

    [GeneratedRegex(@"^\d+[KMGT]?$", RegexOptions.IgnoreCase)]
    private static partial Regex MemForm();

    [GeneratedRegex(@"^(\d+-)?\d+(:\d+){0,2}$|^UNLIMITED$|^INFINITE$", RegexOptions.IgnoreCase)]
    private static partial Regex TimeForm();

    /// <summary>Checks every value; the first problem is a one-line <see cref="MaskLabInputException"/> naming the option.</summary>
    public SlurmOptions Validate()
    {
        if (GpusPerRun < 0) throw Bad("--gpus-per-run", GpusPerRun.ToString(CultureInfo.InvariantCulture), "0 or more");
        if (CpusPerRun < 1) throw Bad("--cpus-per-run", CpusPerRun.ToString(CultureInfo.InvariantCulture), "1 or more");
        if (MaxParallel is < 1) throw Bad("--max-parallel", MaxParallel.Value.ToString(CultureInfo.InvariantCulture), "1 or more");
        if (Mem is not null && !MemForm().IsMatch(Mem)) throw Bad("--mem", Mem, "a size such as 4G or 16000M");
        if (Time is not null && !TimeForm().IsMatch(Time)) throw Bad("--time", Time, "minutes, H:MM:SS or D-HH:MM:SS");
        if (Partition is not null && (Partition.Length == 0 || Partition.Any(c => char.IsWhiteSpace(c) || c == '"')))
            throw Bad("--partition", Partition, "a partition name");
        foreach (var arg in SbatchArgs)
            if (!arg.StartsWith('-') || arg.Contains('\n') || arg.Contains('\r'))
                throw Bad("--sbatch-arg", arg, "one sbatch option such as --account=lab");
        return this;
    }

    static MaskLabInputException Bad(string option, string value, string want) => new($"{option} '{value}' is not valid: {want}");
}
