using MaskLab.Runs;

namespace MaskLab.Experiments;

/// <summary>What a sweep tells whoever watches it, besides the trainer's own progress.</summary>
public interface ISweepObserver
{
    void RunStarting(SweepRun run, int index, int total, RunState state) { }
    void RunFinished(SweepRun run, int index, int total, RunSummary summary, bool skipped) { }
    void RunFailed(SweepRun run, int index, int total, string reason) { }
}

