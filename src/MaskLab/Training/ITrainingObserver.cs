using MaskLab.Runs;

namespace MaskLab.Training;

/// <summary>What a trainer tells whoever watches it (the CLI draws progress bars from this).</summary>
public interface ITrainingObserver
{
    void Stage(string message) { }
    /// <summary>Something the user should fix but the run can go on with (train.csv contradicting the folders, a cache too small).</summary>
    void Warning(string message) => Stage("warning: " + message);
    void Progress(string task, int done, int total) { }
    void EpochStarted(int epoch, int epochs, int batches) { }
    void BatchDone(int epoch, int batch, double loss, double imagesPerSecond) { }
    void EpochDone(EpochRecord record, bool improved) { }
}

internal sealed class SilentObserver : ITrainingObserver
{
    public static readonly SilentObserver Instance = new();
}

/// <summary>Training could not go on (a NaN loss, say); the last good checkpoint is kept.</summary>
public sealed class TrainingStoppedException(string message) : Exception(message);

