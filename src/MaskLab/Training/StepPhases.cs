using System.Diagnostics;

namespace MaskLab.Training;

/// <summary>
/// Where a training step's wall time goes, phase by phase (forward, loss, backward, optimiser, ...). libtorch's CPU
/// kernels run synchronously on the calling thread, so a stopwatch read between two calls times the work of the
/// first: no device synchronisation is needed, and reading the clock costs nanoseconds next to a kernel.
/// </summary>
internal sealed class StepPhases
{
    readonly Stopwatch clock = new();
    readonly List<string> order = [];
    readonly Dictionary<string, List<double>> seconds = [];
    readonly Dictionary<string, double> current = [];

    /// <summary>Starts timing a step.</summary>
    public void Begin()
    {
        current.Clear();
        clock.Restart();
    }

    /// <summary>Charges the time since the last mark to <paramref name="phase"/>.</summary>
    public void Mark(string phase)
    {
        current[phase] = current.GetValueOrDefault(phase) + clock.Elapsed.TotalSeconds;
        if (!order.Contains(phase)) order.Add(phase);
        clock.Restart();
    }

    /// <summary>Closes the step begun by <see cref="Begin"/>, adding its phases to the record.</summary>
    public void End()
    {
        foreach (var (phase, s) in current)
        {
            if (!seconds.TryGetValue(phase, out var list)) seconds[phase] = list = [];
            list.Add(s);
        }
        current.Clear();
    }

    /// <summary>Forgets the steps recorded so far (the warm-up).</summary>
    public void Clear()
    {
        seconds.Clear();
        current.Clear();
    }

    /// <summary>Each phase's median seconds per step, in the order the phases first ran.</summary>
    public IReadOnlyList<(string Phase, double MedianSeconds)> Medians() =>
        order.Where(seconds.ContainsKey).Select(p => (p, Statistics.Median(seconds[p]))).ToArray();
}
