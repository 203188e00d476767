using System.Globalization;
using System.Reflection;
using MaskLab.Data.Faces;
using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Losses;
using MaskLab.Models;
using MaskLab.Platform;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace MaskLab.Runs;

/// <summary>
/// Everything that defines a run. Read from YAML (snake_case keys, one flat mapping: the keys users know),
/// overridden with --set key=value, validated once, and written back into the run directory so a run can be
/// repeated or resumed. A value that must be one of a set is an enum: a wrong value fails when the file is read,
/// never reaching code that would default. Components receive their section (<see cref="DataSection"/>,
/// <see cref="Optimization"/>, <see cref="Schedule"/>, ...), not the whole config.
/// </summary>
public sealed class RunConfig
{
    // The option records are the source of truth of the keys they hold, with their defaults; the flat properties of
    // those keys below are a view over them (the keys of YAML and --set), and the sections hand them out whole.
    LossSpec loss = LossSpec.Default;
    OptimizerSpec optimization = OptimizerSpec.Default;
    ScheduleSpec schedule = ScheduleSpec.Default;
    FineTuneSpec fineTune = new();
    MixOptions mixing = MixOptions.None;
    FaceCropSpec faceCrop = FaceCropSpec.Default;

    /// <summary>Data folder; null means the embedded synthetic default.</summary>
    public string? Data { get; set; }

    /// <summary>The main job fine-tunes the embedded ImageNet ResNet18 (configs/main.yaml spells out every default).</summary>
    public string Model { get; set; } = "resnet18_mlnet";
    /// <summary>auto (the model's embedded ImageNet weights where it has them), none, or imagenet (required).</summary>
    public PretrainedKind Pretrained { get; set; } = PretrainedKind.Auto;
    /// <summary>Pretrained weights to start from: a PyTorch state_dict (.pt / .pth) or .safetensors of the same architecture.</summary>
    public string? Weights { get; set; }
    /// <summary>The backbone's learning rate as a fraction of the head's (fine-tuning a pretrained backbone gently).</summary>
    public double BackboneLrScale { get => fineTune.BackboneLrScale; set => fineTune = fineTune with { BackboneLrScale = value }; }
    /// <summary>Epochs at the start during which only the head trains.</summary>
    public int FreezeEpochs { get => fineTune.FreezeEpochs; set => fineTune = fineTune with { FreezeEpochs = value }; }
    /// <summary>Keep the backbone's BatchNorm running statistics as loaded (its layers stay in eval mode).</summary>
    public bool FreezeBn { get => fineTune.FreezeBn; set => fineTune = fineTune with { FreezeBn = value }; }
    /// <summary>A loss of the registry by name, or "a+b": a mix of two weighted by loss_alpha.</summary>
    public LossChoice Loss { get => loss.Name; set => loss = loss with { Name = value }; }
    /// <summary>Mix weight for "a+b" losses: a * (1 - alpha) + b * alpha.</summary>
    public double LossAlpha { get => loss.Alpha; set => loss = loss with { Alpha = value }; }
    public double Smoothing { get => loss.Smoothing; set => loss = loss with { Smoothing = value }; }
    public double FocalGamma { get => loss.FocalGamma; set => loss = loss with { FocalGamma = value }; }
    /// <summary>Class weights for cross_entropy / focal: "balanced" (from the training split's counts), a comma list, or none.</summary>
    public ClassWeighting? ClassWeights { get; set; }
    /// <summary>single (one softmax over the classes) or multi (mask, gender and age heads; 18 task classes only).</summary>
    public HeadKind Head { get; set; } = HeadKind.Single;
    /// <summary>Multi head: loss weights for mask, gender, age.</summary>
    public HeadLossWeights HeadWeights { get; set; } = HeadLossWeights.Equal;
    /// <summary>
    /// ordinal: an output beside the class head that learns each person's age in years ("age &gt;= t" for every year),
    /// whose prediction, cut at age_cuts, gives the age band; none; auto (the default): ordinal where the data has the
    /// people's ages (the competition layout), none elsewhere.
    /// </summary>
    public AgeHeadKind AgeHead { get; set; } = AgeHeadKind.Auto;
    /// <summary>The ordinal age loss's weight beside the class loss.</summary>
    public double AgeHeadWeight { get; set; } = 1.0;
    /// <summary>
    /// The P(age &gt;= upper age cut) from which the ordinal output calls a photo the upper band (60+); 0.5 reads it as
    /// it comes. 0.3 by default: the rare band's F1 is best served below 0.5 (docs/STUDIES.md, the recipe study).
    /// </summary>
    public double AgeOverThreshold { get; set; } = 0.3;

    /// <summary>
    /// Epochs to train, or null for auto (the default, <c>epochs: auto</c>): enough epochs to show the model
    /// <see cref="ScheduleSpec.AutoImages"/> training photos, at least <see cref="ScheduleSpec.AutoMinEpochs"/>
    /// (<see cref="ScheduleSpec.AutoEpochs"/>), decided when the data is read (<see cref="WithEpochsFor"/>). A number wins.
    /// </summary>
    public int? Epochs
    {
        get => epochsAuto ? null : schedule.Epochs;
        set
        {
            epochsAuto = value is null;
            if (value is { } n) schedule = schedule with { Epochs = n };
        }
    }

    bool epochsAuto = true;
    public int BatchSize { get; set; } = 32;
    public double Lr { get => optimization.Lr; set => optimization = optimization with { Lr = value }; }
    public double WeightDecay { get => optimization.WeightDecay; set => optimization = optimization with { WeightDecay = value }; }
    public double Momentum { get => optimization.Momentum; set => optimization = optimization with { Momentum = value }; }
    public OptimizerKind Optimizer { get => optimization.Kind; set => optimization = optimization with { Kind = value }; }
    public SchedulerKind Scheduler { get => schedule.Kind; set => schedule = schedule with { Kind = value }; }
    public int StepSize { get => schedule.StepSize; set => schedule = schedule with { StepSize = value }; }
    public double StepGamma { get => schedule.StepGamma; set => schedule = schedule with { StepGamma = value }; }
    public double WarmupEpochs { get => schedule.WarmupEpochs; set => schedule = schedule with { WarmupEpochs = value }; }
    /// <summary>
    /// The weights that predict the eval set (submission.csv and the eval scores) when training ends: best (the epoch
    /// of the best val macro F1) or last (the last epoch's, which the cosine schedule has brought to rest).
    /// </summary>
    public CheckpointChoice EvalCheckpoint { get; set; } = CheckpointChoice.Last;
    /// <summary>Epochs without a better val macro F1 before stopping; 0 never stops early.</summary>
    public int Patience { get; set; } = 0;

    public int Seed { get; set; } = 42;
    /// <summary>
    /// Input size as WxH. The main job's 144x180 gives the face crop's age cues 2.1x the pixels of the competition
    /// baseline's Resize((128, 96)) (96x128 here), at 5 epochs in about the time 10 took there (docs/STUDIES.md, "Input size").
    /// </summary>
    public ImageSize ImageSize { get; set; } = new(144, 180);
    /// <summary>fp32; bf16: mixed precision (bf16 forward and backward, fp32 master weights, optimiser state and checkpoints); fp16 (with loss scaling); auto (the default): bf16 on a CPU with native bf16, else fp32.</summary>
    public Precision Precision { get; set; } = Precision.Auto;
    /// <summary>auto (a GPU when a CUDA libtorch is loaded and one is visible, else the CPU), cpu, cuda or cuda:N.</summary>
    public DeviceChoice Device { get; set; } = DeviceChoice.Auto;
    public int Threads { get; set; } = 0;
    /// <summary>
    /// Training batches in the channels-last (NHWC) memory layout: auto (the default) where the start-up probe finds it
    /// right for the run's precision on this CPU and it is the faster layout there (bf16 on a CPU with native bf16), true, false.
    /// </summary>
    public ChannelsLastChoice ChannelsLast { get; set; } = ChannelsLastChoice.Auto;

    public double ValRatio { get; set; } = 0.2;
    /// <summary>Number of person-level folds; 0 or 1 means a single holdout split.</summary>
    public int Folds { get; set; } = 0;
    /// <summary>With folds &gt; 1: train only this fold (0-based); -1 trains all.</summary>
    public int Fold { get; set; } = -1;
    /// <summary>Age cut points for the training labels only; scoring always uses 30,60.</summary>
    public AgeCuts AgeCuts { get; set; } = AgeCuts.Scoring;

    public bool Augment { get; set; } = true;
    /// <summary>Class-balanced sampling with replacement of the training split.</summary>
    public bool WeightedSampler { get; set; } = false;
    /// <summary>person (stratified, no person on both sides) or image: the leaky image-level split, for the split study only.</summary>
    public SplitKind Split { get; set; } = SplitKind.Person;
    /// <summary>Per-image probabilities of the mixing augmentations (see MixOptions); cutmix + cutmix_vertical + mixup at most 1.</summary>
    public double Cutmix { get => mixing.Cutmix; set => mixing = mixing with { Cutmix = value }; }
    public double CutmixVertical { get => mixing.CutmixVertical; set => mixing = mixing with { CutmixVertical = value }; }
    public double Mixup { get => mixing.Mixup; set => mixing = mixing with { Mixup = value }; }
    public double Cutout { get => mixing.Cutout; set => mixing = mixing with { Cutout = value }; }
    public double MixupAlpha { get => mixing.MixupAlpha; set => mixing = mixing with { MixupAlpha = value }; }
    public double CutmixAlpha { get => mixing.CutmixAlpha; set => mixing = mixing with { CutmixAlpha = value }; }
    public bool SkipBad { get; set; } = false;
    /// <summary>detect (the default): cut each photo around its face (BlazeFace, boxes kept under MASKLAB_HOME/face-boxes) at training, eval and predict; none: whole photos.</summary>
    public FaceCropMode FaceCrop { get => faceCrop.Mode; set => faceCrop = faceCrop with { Mode = value }; }
    /// <summary>Face crop margin on every side, as a fraction of the face box.</summary>
    public double FaceMargin { get => faceCrop.Options.Margin; set => faceCrop = faceCrop with { Options = faceCrop.Options with { Margin = value } }; }
    /// <summary>Label corrections applied when the data is read: none, builtin (the public list for the competition's data), a CSV of fixes (person,field,value), or a synthetic set's train_truth.csv.</summary>
    public string? LabelFixes { get; set; }
    /// <summary>Eval photos to train on with predicted labels: a run directory (its eval prediction; a k-fold run's folds soft-voted) or a probability file (predict --probs).</summary>
    public string? PseudoLabels { get; set; }
    /// <summary>Lowest ensemble confidence (top class probability) for an eval photo to become a pseudo label.</summary>
    public double PseudoThreshold { get; set; } = 0.9;
    /// <summary>Training images a batch whose left or right half is replaced by that half of a 60+ training photo (half-image CutMix).</summary>
    public int CutmixOld { get; set; } = 0;
    /// <summary>Batches whose gradients are summed before each optimiser step: an accumulate x batch_size effective batch.</summary>
    public int Accumulate { get; set; } = 1;
    /// <summary>Synthetic default size: people in train and eval (used when Data is null).</summary>
    public int SynthPeople { get; set; } = 600;
    public int SynthEvalPeople { get; set; } = 200;

    // ---- sections: what each component receives ----

    public DataSpec DataSection => new(Data, ImageSize, ValRatio, Folds, Fold, Split, Seed, SkipBad, SynthPeople, SynthEvalPeople)
    {
        FaceCrop = FaceCropSection, LabelFixes = NoneAsNull(LabelFixes),
        Pseudo = NoneAsNull(PseudoLabels) is { } pseudo ? new PseudoSpec(pseudo, PseudoThreshold) : null,
    };
    public FaceCropSpec FaceCropSection => faceCrop;
    public MixOptions Mixing => mixing;
    public HeadSpec HeadSection => new(Head, HeadWeights)
    {
        AgeHead = AgeHead == AgeHeadKind.None ? AgeHeadSpec.None : new AgeHeadSpec(AgeHead, AgeHeadWeight, AgeCuts, AgeOverThreshold),
    };
    public LossSpec LossSection => loss;
    public OptimizerSpec Optimization => optimization;
    /// <summary>The schedule over a known number of epochs: with epochs auto, take it from <see cref="WithEpochsFor"/>'s config.</summary>
    public ScheduleSpec Schedule => epochsAuto
        ? throw new InvalidOperationException("epochs auto is decided by the data: schedule the config WithEpochsFor gives")
        : schedule;

    /// <summary>Epochs as trained on <paramref name="trainPhotos"/> photos an epoch: the number set, or auto's.</summary>
    public int EpochsFor(int trainPhotos) => Epochs ?? ScheduleSpec.AutoEpochs(trainPhotos);

    /// <summary>This config with epochs auto decided for <paramref name="trainPhotos"/> photos an epoch (itself where epochs is a number).</summary>
    public RunConfig WithEpochsFor(int trainPhotos)
    {
        if (Epochs is not null) return this;
        var resolved = Clone();
        resolved.Epochs = ScheduleSpec.AutoEpochs(trainPhotos);
        return resolved;
    }
    public FineTuneSpec FineTune => fineTune;

    /// <summary>The embedded weights the run starts from, or null (random initialisation or a weights file).</summary>
    public IEmbeddedWeights? EmbeddedWeights => Pretrained switch
    {
        PretrainedKind.None => null,
        PretrainedKind.Auto when Weights is { Length: > 0 } => null,
        _ => ModelRegistry.Contains(Model) ? ModelRegistry.Get(Model).Embedded : null,
    };

    /// <summary>
    /// The input the model expects where it differs from the task's per-channel normalisation (embedded weights
    /// bring their own); recorded in the run, and applied again by eval and predict through the config.
    /// </summary>
    public InputNormalization? Input => EmbeddedWeights?.Normalization;

    /// <summary>Checks every value; the first problem is a <see cref="MaskLabInputException"/> naming key and value.</summary>
    public RunConfig Validate()
    {
        if (!ModelRegistry.Contains(Model))
            throw new MaskLabInputException($"unknown model '{Echo.Of(Model)}'; known: {string.Join(", ", ModelRegistry.Names)}");
        loss.Validate();
        if (Weights is { Length: > 0 } wf && !File.Exists(wf)) throw new MaskLabInputException($"weights file '{wf}' does not exist");
        if (Pretrained == PretrainedKind.Imagenet)
        {
            if (Weights is { Length: > 0 }) throw new MaskLabInputException($"pretrained imagenet and weights '{Weights}' both name starting weights: keep one");
            if (EmbeddedWeights is null)
                throw new MaskLabInputException($"model '{Model}' has no embedded ImageNet weights; models with them: {string.Join(", ", ModelRegistry.Names.Where(n => ModelRegistry.Get(n).Embedded is not null))} (or use weights=FILE)");
        }
        if (!epochsAuto) schedule.Validate(); // before the keys checked against its epochs
        else if (WarmupEpochs < 0) throw Bad("warmup_epochs", WarmupEpochs);
        fineTune.Validate(Epochs ?? ScheduleSpec.AutoMinEpochs);
        mixing.Validate();
        if (Split == SplitKind.Image && Folds > 1) throw new MaskLabInputException("split 'image' is only for a holdout split; k-fold is always by person (set folds 0)");
        Positive(BatchSize, "batch_size");
        optimization.Validate();
        if (ValRatio is <= 0 or >= 1) throw Bad("val_ratio", ValRatio);
        if (Folds < 0 || Folds == 1) throw Bad("folds", Folds, "use 0 for a holdout split or 2 and more");
        if (Fold < -1 || (Folds > 1 && Fold >= Folds)) throw Bad("fold", Fold, $"must be -1 or 0..{Math.Max(0, Folds - 1)}");
        if (Patience < 0) throw Bad("patience", Patience);
        // libtorch starts a thread pool of this size: a typo such as 100000 would hang the machine, not fail.
        if (Threads is < 0 or > MaxThreads) throw Bad("threads", Threads, $"0 (all cores) up to {MaxThreads}");
        _ = HeadSection;
        if (!(AgeHeadWeight >= 0 && AgeHeadWeight <= 1e3)) throw Bad("age_head_weight", AgeHeadWeight, "0..1000");
        if (!(AgeOverThreshold > 0 && AgeOverThreshold < 1)) throw Bad("age_over_threshold", AgeOverThreshold, "must be above 0 and below 1");
        if (AgeHead != AgeHeadKind.None && !AgeOrdinal.CanCut(AgeCuts))
            throw new MaskLabInputException($"age_cuts {AgeCuts} cannot cut the ordinal age output (age_head {ConfigValues.EnumText(AgeHead)}), which learns ages {AgeOrdinal.MinAge + 1}..{AgeOrdinal.MaxAge}: use cuts inside that range (e.g. 30,58), or age_head: none");
        if (Head == HeadKind.Multi && ClassWeights is not null)
            throw new MaskLabInputException($"class_weights '{ClassWeights}' weigh the 18 classes of head: single; head: multi weighs its losses with head_weights");
        if (SynthPeople < 10) throw Bad("synth_people", SynthPeople, "at least 10");
        if (SynthEvalPeople < 1) throw Bad("synth_eval_people", SynthEvalPeople);
        faceCrop.Options.Validate();
        // label_fixes and pseudo_labels name files, like data: they are read (and a missing one reported) when the data is loaded.
        if (!(PseudoThreshold > 0 && PseudoThreshold <= 1)) throw Bad("pseudo_threshold", PseudoThreshold, "must be above 0 and at most 1");
        if (CutmixOld < 0 || CutmixOld > BatchSize) throw Bad("cutmix_old", CutmixOld, $"must be 0..batch_size ({BatchSize})");
        Positive(Accumulate, "accumulate");
        return this;
    }

    public const int MaxThreads = 1024;

    /// <summary>Text settings where "none" (or nothing) means off.</summary>
    static string? NoneAsNull(string? text) => text is null || text.Trim().Length == 0 || text.Trim().Equals("none", StringComparison.OrdinalIgnoreCase) ? null : text.Trim();

    static void Positive(int v, string key) { if (v <= 0) throw Bad(key, v, "must be positive"); }

    static MaskLabInputException Bad(string key, object value, string? why = null) => MaskLabInputException.BadValue(key, value, why);

    // ---- text form: YAML files, --set, config.yaml ----

    static readonly INamingConvention Naming = UnderscoredNamingConvention.Instance;

    static readonly PropertyInfo[] Properties = typeof(RunConfig)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanWrite)
        .ToArray();

    static readonly Dictionary<string, PropertyInfo> ByKey = Properties.ToDictionary(p => Naming.Apply(p.Name));

    /// <summary>Keys whose type is a non-nullable reference (model, loss, ...): an empty value is refused, not stored as null.</summary>
    static readonly HashSet<string> Required = Properties
        .Where(p => !p.PropertyType.IsValueType && new NullabilityInfoContext().Create(p).WriteState == NullabilityState.NotNull)
        .Select(p => Naming.Apply(p.Name)).ToHashSet();

    /// <summary>The snake_case keys a config file and --set accept.</summary>
    public static IReadOnlyList<string> Keys { get; } = Properties.Select(p => Naming.Apply(p.Name)).ToArray();

    /// <summary>Loads a YAML file (or the defaults when null) and applies key=value overrides.</summary>
    public static RunConfig Load(string? file, IEnumerable<string>? overrides = null)
    {
        var map = file is null ? new Dictionary<string, string?>() : Yaml.ScalarMap(Yaml.ReadFile(file, "config file"), file);
        Overrides.ApplyTo(map, overrides);
        return FromMap(map, file ?? "--set");
    }

    /// <summary>
    /// Keys a run's config.yaml may lack because the run was trained before they existed, with the value that run had:
    /// the defaults of their day, not today's. (Every other key has been written since the first config.yaml.)
    /// </summary>
    static readonly Dictionary<string, string> KeysAddedLater = new()
    {
        ["face_crop"] = "none",
        ["face_margin"] = "0.3",
        ["age_head"] = "none",
        ["age_head_weight"] = "1",
        ["age_over_threshold"] = "0.5",
        ["eval_checkpoint"] = "best",
        ["channels_last"] = "false",
    };

    /// <summary>
    /// A run's recorded config (RUNDIR/config.yaml, written with every key): a key it lacks takes the value runs had
    /// before the key existed, so an older run is read back, evaluated and resumed as it was trained.
    /// </summary>
    public static RunConfig LoadRecorded(string file)
    {
        var map = Yaml.ScalarMap(Yaml.ReadFile(file, "run config"), file);
        foreach (var (key, value) in KeysAddedLater) map.TryAdd(key, value);
        return FromMap(map, file);
    }

    /// <summary>Builds a config from key / value text (the shape of a YAML mapping of scalars).</summary>
    public static RunConfig FromMap(IReadOnlyDictionary<string, string?> map, string source)
    {
        var unknown = map.Keys.Where(k => !ByKey.ContainsKey(k)).ToArray();
        if (unknown.Length > 0)
            throw new MaskLabInputException($"unknown config key '{Echo.Of(unknown[0])}' in {source}; known: {string.Join(", ", Keys)}");
        var config = new RunConfig();
        foreach (var (key, text) in map)
        {
            var value = ConfigValues.Parse(text, ByKey[key].PropertyType, key);
            if (value is null && Required.Contains(key)) throw new MaskLabInputException($"{key} needs a value (in {source})");
            ByKey[key].SetValue(config, value);
        }
        return config;
    }

    /// <summary>Every key with its value as text, in declaration order.</summary>
    public Dictionary<string, string?> ToMap()
    {
        var map = new Dictionary<string, string?>();
        foreach (var p in Properties) map[Naming.Apply(p.Name)] = ConfigValues.Format(p.GetValue(this));
        map["epochs"] ??= "auto";
        return map;
    }

    /// <summary>One setting that differs between two configs: its key, this config's value and the other's.</summary>
    public readonly record struct Difference(string Key, string? Value, string? Other);

    /// <summary>
    /// The settings (every key, or only <paramref name="keys"/>) whose values differ from <paramref name="other"/>'s,
    /// in key order: what decides whether a folder holds the run a command asks for.
    /// </summary>
    public IReadOnlyList<Difference> DifferencesFrom(RunConfig other, params string[] keys)
    {
        ArgumentNullException.ThrowIfNull(other);
        var mine = ToMap();
        var theirs = other.ToMap();
        return (keys.Length == 0 ? [.. mine.Keys] : keys)
            .Where(k => mine.GetValueOrDefault(k) != theirs.GetValueOrDefault(k))
            .Select(k => new Difference(k, mine.GetValueOrDefault(k), theirs.GetValueOrDefault(k)))
            .ToList();
    }

    /// <summary>YAML text of this config, every key written.</summary>
    public string ToYaml() => new SerializerBuilder().Build().Serialize(ToMap());

    public RunConfig Clone() => FromMap(ToMap(), "clone");
}
