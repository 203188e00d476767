namespace MaskLab.Runs;

/// <summary>Which of a run's checkpoints to load: the best validation epoch's (the default) or the last epoch's.</summary>
public enum CheckpointChoice { Best, Last }
