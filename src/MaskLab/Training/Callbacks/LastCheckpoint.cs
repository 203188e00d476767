using MaskLab.Runs;

namespace MaskLab.Training;

/// <summary>
/// last.ckpt, with the optimiser and the state to resume from. It is written last, after the epoch's other files: it
/// is what makes the epoch done. A run killed before it repeats the epoch on resume (the same weights, so the same
/// files) and drops the epoch's metrics line.
/// </summary>
internal sealed class LastCheckpoint(RunDirectory run) : ITrainerCallback
{
    public void OnEpochEnd(TrainingSession session, EpochResult epoch)
    {
        CrashPoint.Pass("epoch-files");
        Checkpoint.Save(run.LastCheckpoint, session.Model, session.Optimizer, session.State);
    }
}
