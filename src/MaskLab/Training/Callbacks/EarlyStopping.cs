namespace MaskLab.Training;

/// <summary>Stops after <paramref name="patience"/> epochs without a better validation macro F1 (0: never), unless the last epoch is next anyway.</summary>
internal sealed class EarlyStopping(int patience, int epochs, ITrainingObserver observer) : ITrainerCallback
{
    public bool StopRequested { get; private set; }

    public void OnEpochEnd(TrainingSession session, EpochResult epoch)
    {
        if (patience <= 0 || session.State.EpochsWithoutImprovement < patience || epoch.Index + 1 >= epochs) return;
        StopRequested = true;
        observer.Stage($"no better val macro F1 for {patience} epoch(s): stopping early");
    }
}
