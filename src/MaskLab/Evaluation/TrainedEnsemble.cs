using MaskLab.Runs;
using static TorchSharp.torch;

namespace MaskLab.Evaluation;

/// <summary>
/// Several trained runs loaded to vote together: each member a run directory, a k-fold root counting as one member whose
/// folds share its weight. Disposing it disposes every run it loaded.
/// </summary>
internal sealed class TrainedEnsemble : IDisposable
{
    readonly List<TrainedRun> runs;

    TrainedEnsemble(List<TrainedRun> runs, double[] weights)
    {
        this.runs = runs;
        Weights = weights;
    }

    /// <summary>The loaded runs, folds expanded, in member order.</summary>
    public IReadOnlyList<TrainedRun> Runs => runs;

    /// <summary>Each run's vote weight: its member's weight (1 unless given) divided among the member's folds.</summary>
    public IReadOnlyList<double> Weights { get; }

    /// <summary>
    /// Loads every member with the checkpoint asked for (null: each run's own eval_checkpoint) onto <paramref name="device"/>. A member that cannot be loaded
    /// is a <see cref="MaskLabInputException"/>, and what was loaded before it is disposed.
    /// </summary>
    /// <param name="memberWeights">One non-negative weight per member; null weighs them equally.</param>
    /// <param name="loaded">Told of each run as it is loaded (for a line naming its weights).</param>
    public static TrainedEnsemble Load(IReadOnlyList<string> members, CheckpointChoice? choice = null, Device? device = null,
        IReadOnlyList<double>? memberWeights = null, Action<TrainedRun>? loaded = null)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (memberWeights is not null && memberWeights.Count != members.Count)
            throw new MaskLabInputException($"{memberWeights.Count} weights for {members.Count} runs");
        var runs = new List<TrainedRun>();
        var weights = new List<double>();
        try
        {
            for (int k = 0; k < members.Count; k++)
            {
                var folds = RunDirectory.ExpandFolds([members[k]]);
                foreach (var dir in folds)
                {
                    runs.Add(TrainedRun.Load(dir, choice, device));
                    weights.Add((memberWeights?[k] ?? 1.0) / folds.Count);
                    loaded?.Invoke(runs[^1]);
                }
            }
            return new TrainedEnsemble(runs, weights.ToArray());
        }
        catch
        {
            foreach (var r in runs) r.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var r in runs) r.Dispose();
        runs.Clear();
    }
}
