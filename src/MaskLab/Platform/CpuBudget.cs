using System.Globalization;

namespace MaskLab.Platform;

/// <summary>
/// The cores this process may use. Inside a Slurm job that asked for --cpus-per-task that is SLURM_CPUS_PER_TASK:
/// two libtorch processes that each take every core slow each other 5-10x on a 2-core machine, so a task keeps to
/// what it was given. Outside Slurm there is no limit and libtorch keeps its own default.
/// </summary>
internal static class CpuBudget
{
    /// <summary>The process's limit, read once from SLURM_CPUS_PER_TASK; null outside a Slurm allocation.</summary>
    public static int? Limit { get; } = Parse(Environment.GetEnvironmentVariable("SLURM_CPUS_PER_TASK"));

    /// <summary>A positive whole number of CPUs, or null for anything else (unset, empty, garbage).</summary>
    public static int? Parse(string? cpusPerTask) =>
        int.TryParse(cpusPerTask, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;

    /// <summary>
    /// The libtorch threads for a run that asks for <paramref name="requested"/> (0: libtorch's default): never more
    /// than <paramref name="limit"/>, and the limit itself where the run leaves the count to the default. 0 means
    /// "leave libtorch's default" and is returned only without a limit.
    /// </summary>
    public static int Threads(int requested, int? limit) =>
        limit is { } l ? (requested > 0 ? Math.Min(requested, l) : l) : requested;
}
