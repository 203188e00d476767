using MaskLab.Data;

namespace MaskLab.Runs;

public enum OptimizerKind { Adam, AdamW, Sgd }

public enum SchedulerKind { Cosine, Step, None }

public enum Precision { Fp32, Bf16 }

public enum DeviceKind { Auto, Cpu, Cuda }

public enum SplitKind { Person, Image }

/// <summary>Where the photos come from and how they are split: what loading the data of a run needs.</summary>
/// <param name="Dir">Data folder; null: the embedded synthetic set of <paramref name="SynthPeople"/> + <paramref name="SynthEvalPeople"/> people.</param>
/// <param name="Fold">With <paramref name="Folds"/> &gt; 1, the fold validated on (-1: all, trained one after another).</param>
public sealed record DataSpec(string? Dir, ImageSize Size, double ValRatio, int Folds, int Fold, SplitKind Split, int Seed,
    bool SkipBad, int SynthPeople, int SynthEvalPeople);

/// <summary>The optimiser and its base learning rate.</summary>
public sealed record OptimizerSpec(OptimizerKind Kind, double Lr, double WeightDecay, double Momentum);

/// <summary>The learning-rate schedule over the epochs (see LrSchedule).</summary>
public sealed record ScheduleSpec(SchedulerKind Kind, int Epochs, double WarmupEpochs, int StepSize, double StepGamma);
