using MaskLab.Evaluation;
using MaskLab.Runs;

namespace MaskLab.Training;

/// <summary>On a better validation macro F1: best.ckpt, and the confusion, per-class and validation-prediction files of that epoch.</summary>
internal sealed class BestCheckpoint(RunDirectory run) : ITrainerCallback
{
    public void OnEpochEnd(TrainingSession session, EpochResult epoch)
    {
        if (!epoch.Improved) return;
        Checkpoint.Save(run.BestCheckpoint, session.Model, null, session.State);
        ConfusionCsv.Write(run.ConfusionFile, epoch.Report);
        PerClassCsv.Write(run.PerClassFile, epoch.Report);
        ValPredictions.Write(run.ValPredictionsFile, session.ValPaths, session.ValTruth, epoch.Probabilities);
    }
}
