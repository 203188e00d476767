namespace MaskLab.Training;

/// <summary>What a trainer tells whoever watches it (the CLI draws progress bars from this).</summary>
public interface ITrainingObserver
{
    void Stage(string message) { }
    void Progress(string task, int done, int total) { }
    void EpochStarted(int epoch, int epochs, int batches) { }
    void BatchDone(int epoch, int batch, double loss, double imagesPerSecond) { }
    void EpochDone(EpochRecord record, bool improved) { }
}

public sealed class SilentObserver : ITrainingObserver
{
    public static readonly SilentObserver Instance = new();
}

/// <summary>Training could not go on (a NaN loss, say); the last good checkpoint is kept.</summary>
public sealed class TrainingStoppedException(string message) : Exception(message);

/// <summary>Training images that cannot be read; the run fails before training unless told to skip them.</summary>
public sealed class BadImagesException(IReadOnlyList<(string Path, string Reason)> bad)
    : MaskLabInputException($"{bad.Count} unreadable image(s), first {bad[0].Path}: {bad[0].Reason}; fix or remove them, or pass --skip-bad to train without them")
{
    public IReadOnlyList<(string Path, string Reason)> Bad { get; } = bad;
}
