using MaskLab.Evaluation;
using MaskLab.Runs;

namespace MaskLab.Training;

/// <summary>
/// What happens around the epoch loop but is not the algorithm: checkpoints, logs, progress, early stopping, the
/// backbone's freeze schedule. The trainer calls each callback in the order given; a callback may ask the loop to stop.
/// Adding a behaviour is a new callback, not a new branch in the loop (as Lightning and Keras do it).
/// </summary>
internal interface ITrainerCallback
{
    /// <summary>Before an epoch's batches, with the model already in training mode.</summary>
    void OnEpochStart(TrainingSession session, int epoch) { }

    /// <summary>After an epoch's validation, with the state that records it.</summary>
    void OnEpochEnd(TrainingSession session, EpochResult epoch) { }

    /// <summary>True once the run should end after the epoch just finished.</summary>
    bool StopRequested => false;
}

/// <summary>A trained and validated epoch.</summary>
/// <param name="Index">The 0-based epoch (the record's <c>Epoch</c> is 1-based).</param>
/// <param name="Probabilities">The validation photos' class probabilities, in the order of the validation indices.</param>
/// <param name="Improved">Whether validation macro F1 beat every earlier epoch's.</param>
internal sealed record EpochResult(int Index, EpochRecord Record, EvaluationReport Report, float[,] Probabilities, int[] Predicted, bool Improved);

/// <summary>The callbacks of a run, called in order.</summary>
internal sealed class TrainerCallbacks(IReadOnlyList<ITrainerCallback> callbacks)
{
    public IReadOnlyList<ITrainerCallback> Items => callbacks;

    public void EpochStart(TrainingSession session, int epoch)
    {
        foreach (var c in callbacks) c.OnEpochStart(session, epoch);
    }

    public void EpochEnd(TrainingSession session, EpochResult epoch)
    {
        foreach (var c in callbacks) c.OnEpochEnd(session, epoch);
    }

    public bool StopRequested => callbacks.Any(c => c.StopRequested);
}
