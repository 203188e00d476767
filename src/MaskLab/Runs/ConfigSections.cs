using MaskLab.Data.Faces;
using MaskLab.Data.Loading;

namespace MaskLab.Runs;

public enum OptimizerKind { Adam, AdamW, Sgd }

public enum SchedulerKind { Cosine, Step, None }

/// <summary>
/// fp32; bf16 mixed precision (no loss scaling needed); fp16 mixed precision with dynamic loss scaling, for GPUs
/// without bf16; auto: bf16 where the CPU computes it natively, else fp32 (<see cref="PrecisionChoice"/>).
/// </summary>
public enum Precision { Fp32, Bf16, Fp16, Auto }

/// <summary>
/// The channels-last (NHWC) layout of the training batches: <c>true</c>, <c>false</c>, or <c>auto</c> (the default):
/// on where the start-up probe finds it computes right for the run's precision on this CPU and it is the faster layout
/// there (<see cref="LayoutChoice"/>). The names are the config's spellings (<c>channels_last: true</c>).
/// </summary>
public enum ChannelsLastChoice { Auto, True, False }

public enum SplitKind { Person, Image }

/// <summary>
/// Where a model's weights start: <c>auto</c> takes the model's embedded ImageNet weights where it has them (and no
/// <c>weights</c> file is named), <c>imagenet</c> requires them, <c>none</c> starts from a random initialisation.
/// </summary>
public enum PretrainedKind { Auto, None, Imagenet }

/// <summary>Where the photos come from and how they are split: what loading the data of a run needs.</summary>
/// <param name="Dir">Data folder; null: the embedded synthetic set of <paramref name="SynthPeople"/> + <paramref name="SynthEvalPeople"/> people.</param>
/// <param name="Fold">With <paramref name="Folds"/> &gt; 1, the fold validated on (-1: all, trained one after another).</param>
public sealed record DataSpec(string? Dir, ImageSize Size, double ValRatio, int Folds, int Fold, SplitKind Split, int Seed,
    bool SkipBad, int SynthPeople, int SynthEvalPeople)
{
    /// <summary>The part of each photo that is kept (face_crop, face_margin).</summary>
    public FaceCropSpec FaceCrop { get; init; } = FaceCropSpec.None;

    /// <summary>Where face boxes are kept between runs; null: <see cref="FaceCropSpec.DefaultBoxFolder"/> (not a config key).</summary>
    public string? FaceBoxFolder { get; init; }

    /// <summary>builtin, or a file of label corrections; null: the labels as the data gives them.</summary>
    public string? LabelFixes { get; init; }

    /// <summary>Eval photos trained on with predicted labels; null: none.</summary>
    public PseudoSpec? Pseudo { get; init; }

    /// <summary>
    /// What decides the photos and labels of a load, not how they are split: runs whose keys are equal can share
    /// one decode (a sweep's seeds).
    /// </summary>
    internal DataLoadKey LoadKey => new(Dir, Dir is null ? SynthPeople : 0, Dir is null ? SynthEvalPeople : 0, Size, SkipBad,
        FaceCrop.Mode == FaceCropMode.None ? FaceCropSpec.None : FaceCrop, LabelFixes, Pseudo);
}

/// <summary>
/// The settings of a <see cref="DataSpec"/> that decide which photos are read and with which labels, compared by value:
/// the synthetic set's size only where no folder is named, the face crop's options only where it crops.
/// </summary>
internal readonly record struct DataLoadKey(string? Dir, int SynthPeople, int SynthEvalPeople, ImageSize Size, bool SkipBad,
    FaceCropSpec FaceCrop, string? LabelFixes, PseudoSpec? Pseudo);

/// <summary>Where pseudo labels come from (a run directory or a probability file) and the confidence they need.</summary>
public sealed record PseudoSpec(string Source, double Threshold);

/// <summary>The optimiser and its base learning rate.</summary>
public sealed record OptimizerSpec(OptimizerKind Kind, double Lr, double WeightDecay, double Momentum)
{
    /// <summary>The main job's: AdamW at 1e-3 with weight decay 5e-4 (momentum is SGD's).</summary>
    public static readonly OptimizerSpec Default = new(OptimizerKind.AdamW, 1e-3, 5e-4, 0.9);

    /// <summary>The first bad value as a <see cref="MaskLabInputException"/> naming its key.</summary>
    public void Validate()
    {
        // The optimiser holds these in float32: a larger value would fail inside libtorch, not here.
        if (!(Lr > 0) || Lr > float.MaxValue) throw MaskLabInputException.BadValue("lr", Lr);
        if (WeightDecay is < 0 or > float.MaxValue) throw MaskLabInputException.BadValue("weight_decay", WeightDecay);
        if (Momentum is < 0 or > float.MaxValue) throw MaskLabInputException.BadValue("momentum", Momentum);
    }
}

/// <summary>
/// How a pretrained backbone is fine-tuned: its learning rate as a fraction of the head's, the epochs it stays frozen
/// (only the new head trains), and whether its BatchNorm layers keep their running statistics.
/// </summary>
public sealed record FineTuneSpec(double BackboneLrScale = 1.0, int FreezeEpochs = 0, bool FreezeBn = false)
{
    /// <summary>The first bad value as a <see cref="MaskLabInputException"/> naming its key; the freeze must end within <paramref name="epochs"/>.</summary>
    public void Validate(int epochs)
    {
        if (!(BackboneLrScale >= 0 && BackboneLrScale <= 1e3)) throw MaskLabInputException.BadValue("backbone_lr_scale", BackboneLrScale, "a fraction of lr, e.g. 0.1");
        if (FreezeEpochs < 0 || FreezeEpochs > epochs) throw MaskLabInputException.BadValue("freeze_epochs", FreezeEpochs, $"must be 0..epochs ({epochs})");
    }

    /// <summary>Whether backbone and head are treated differently at all (else one parameter group, as from scratch).</summary>
    public bool Splits => BackboneLrScale != 1.0 || FreezeEpochs > 0 || FreezeBn;

    /// <summary>Whether the backbone is frozen during the 0-based <paramref name="epoch"/>.</summary>
    public bool BackboneFrozen(int epoch) => epoch < FreezeEpochs;
}

/// <summary>The learning-rate schedule over the epochs (see LrSchedule).</summary>
public sealed record ScheduleSpec(SchedulerKind Kind, int Epochs, double WarmupEpochs, int StepSize, double StepGamma)
{
    /// <summary>The main job's: 5 epochs, one of linear warm-up, then cosine (step_size and step_gamma are the step schedule's).</summary>
    public static readonly ScheduleSpec Default = new(SchedulerKind.Cosine, 5, 1, 20, 0.5);

    /// <summary>
    /// <c>epochs: auto</c> shows the model at least this many training photos: the default set's 3,360 five times, the
    /// number of updates the main job's recipe was chosen at. A smaller set gets more epochs, not fewer updates.
    /// </summary>
    public const int AutoImages = 16_800;

    /// <summary><c>epochs: auto</c> trains at least this many epochs: a larger set gets as many passes as the default set, not fewer.</summary>
    public const int AutoMinEpochs = 5;

    /// <summary><c>epochs: auto</c> trains at most this many epochs, however few the photos.</summary>
    public const int AutoMaxEpochs = 30;

    /// <summary>The epochs <c>epochs: auto</c> trains on <paramref name="trainPhotos"/> photos an epoch.</summary>
    public static int AutoEpochs(int trainPhotos) =>
        trainPhotos <= 0 ? AutoMinEpochs : Math.Clamp((AutoImages + trainPhotos - 1) / trainPhotos, AutoMinEpochs, AutoMaxEpochs);

    /// <summary>Why <see cref="AutoEpochs"/> gave what it gave, for the log and metadata.json.</summary>
    public static string AutoReason(int trainPhotos)
    {
        var epochs = AutoEpochs(trainPhotos);
        return epochs == AutoMinEpochs ? $"auto: {trainPhotos:N0} training photos take {AutoMinEpochs} epochs, the fewest auto trains"
            : epochs == AutoMaxEpochs ? $"auto: {trainPhotos:N0} training photos take {AutoMaxEpochs} epochs, the most auto trains"
            : $"auto: {trainPhotos:N0} training photos take {epochs} epochs to show the model {AutoImages:N0} (the default set's 5 epochs)";
    }

    /// <summary>The first bad value as a <see cref="MaskLabInputException"/> naming its key.</summary>
    public void Validate()
    {
        if (Epochs <= 0) throw MaskLabInputException.BadValue("epochs", Epochs, "must be positive");
        if (WarmupEpochs < 0) throw MaskLabInputException.BadValue("warmup_epochs", WarmupEpochs);
    }
}
