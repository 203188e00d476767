namespace MaskLab.Training;

/// <summary>Tells the observer (the CLI's progress bars) where the run is.</summary>
internal sealed class ProgressCallback(ITrainingObserver observer, int epochs) : ITrainerCallback
{
    public void OnEpochStart(TrainingSession session, int epoch) => observer.EpochStarted(epoch + 1, epochs, session.Batches);

    public void OnEpochEnd(TrainingSession session, EpochResult epoch) => observer.EpochDone(epoch.Record, epoch.Improved);
}
