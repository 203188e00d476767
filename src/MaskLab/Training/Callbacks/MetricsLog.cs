using MaskLab.Runs;

namespace MaskLab.Training;

/// <summary>The epoch's line of metrics.jsonl.</summary>
internal sealed class MetricsLog(RunDirectory run) : ITrainerCallback
{
    public void OnEpochEnd(TrainingSession session, EpochResult epoch) => run.AppendMetrics(epoch.Record);
}
