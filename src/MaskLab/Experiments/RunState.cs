using MaskLab.Runs;

namespace MaskLab.Experiments;

public enum RunState { NotStarted, Unfinished, Finished, Failed }

/// <summary>Where a run directory stands; the one definition of "finished" that train, k-fold and sweeps share.</summary>
public static class RunStates
{
    /// <summary>
    /// Failed when it holds failure.txt (resuming a diverged run restores its weights and RNG state and diverges
    /// again at the same batch); finished when its summary reached the planned epochs or stopped early; unfinished
    /// when it has a checkpoint; else not started.
    /// </summary>
    /// <param name="epochs">The epochs planned; null for epochs auto, whose count the run's summary records.</param>
    public static RunState Of(RunDirectory dir, int? epochs)
    {
        if (File.Exists(dir.FailureFile)) return RunState.Failed;
        if (ReadSummary(dir)?.Training.Completes(epochs) == true) return RunState.Finished;
        return File.Exists(dir.LastCheckpoint) ? RunState.Unfinished : RunState.NotStarted;
    }

    static RunSummary? ReadSummary(RunDirectory dir)
    {
        try { return dir.ReadSummary(); }
        catch (System.Text.Json.JsonException) { return null; }
    }
}
