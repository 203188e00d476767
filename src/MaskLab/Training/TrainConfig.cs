using System.Globalization;
using System.Reflection;
using MaskLab.Data;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace MaskLab.Training;

/// <summary>
/// Everything that defines a training run. Read from YAML (snake_case keys), overridden with --set key=value,
/// validated once, and written back into the run directory so a run can be repeated or resumed.
/// </summary>
public sealed class TrainConfig
{
    /// <summary>Data folder; null means the embedded synthetic default.</summary>
    public string? Data { get; set; }

    public string Model { get; set; } = "resnet18";
    /// <summary>Pretrained weights to start from: a PyTorch state_dict (.pt / .pth) or .safetensors of the same architecture.</summary>
    public string? Weights { get; set; }
    public string Loss { get; set; } = "cross_entropy";
    /// <summary>Mix weight for "a+b" losses: a * (1 - alpha) + b * alpha.</summary>
    public double LossAlpha { get; set; } = 0.5;
    public double Smoothing { get; set; } = 0.0;
    public double FocalGamma { get; set; } = 2.0;
    /// <summary>Class weights for cross_entropy / focal: "balanced" (from the training split's counts), a comma list, or none.</summary>
    public string? ClassWeights { get; set; }
    /// <summary>single (one softmax over the classes) or multi (mask, gender and age heads; 18 task classes only).</summary>
    public string Head { get; set; } = "single";
    /// <summary>Multi head: loss weights for mask, gender, age.</summary>
    public string HeadWeights { get; set; } = "1,1,1";

    public int Epochs { get; set; } = 10;
    public int BatchSize { get; set; } = 32;
    public double Lr { get; set; } = 1e-3;
    public double WeightDecay { get; set; } = 5e-4;
    public double Momentum { get; set; } = 0.9;
    /// <summary>adam, adamw or sgd.</summary>
    public string Optimizer { get; set; } = "adamw";
    /// <summary>cosine, step or none.</summary>
    public string Scheduler { get; set; } = "cosine";
    public int StepSize { get; set; } = 20;
    public double StepGamma { get; set; } = 0.5;
    public double WarmupEpochs { get; set; } = 1;
    /// <summary>Epochs without a better val macro F1 before stopping; 0 never stops early.</summary>
    public int Patience { get; set; } = 0;

    public int Seed { get; set; } = 42;
    /// <summary>Input size as WxH. 96x128 is the baseline's Resize((128, 96)) (height, width) for portrait photos.</summary>
    public string ImageSize { get; set; } = "96x128";
    /// <summary>fp32, or bf16: mixed precision (bf16 forward and backward, fp32 master weights, optimiser state and checkpoints).</summary>
    public string Precision { get; set; } = "fp32";
    /// <summary>auto, cpu or cuda; this build ships the CPU libtorch, so auto means cpu and cuda is refused.</summary>
    public string Device { get; set; } = "auto";
    public int Threads { get; set; } = 0;

    public double ValRatio { get; set; } = 0.2;
    /// <summary>Number of person-level folds; 0 or 1 means a single holdout split.</summary>
    public int Folds { get; set; } = 0;
    /// <summary>With folds &gt; 1: train only this fold (0-based); -1 trains all.</summary>
    public int Fold { get; set; } = -1;
    /// <summary>Age cut points for the training labels only; scoring always uses 30,60.</summary>
    public string AgeCuts { get; set; } = "30,60";

    public bool Augment { get; set; } = true;
    /// <summary>Per-image probabilities of the mixing augmentations (see MixOptions); cutmix + cutmix_vertical + mixup at most 1.</summary>
    /// <summary>Class-balanced sampling with replacement of the training split.</summary>
    public bool WeightedSampler { get; set; } = false;
    /// <summary>person (stratified, no person on both sides) or image: the leaky image-level split, for the split study only.</summary>
    public string Split { get; set; } = "person";
    public double Cutmix { get; set; } = 0;
    public double CutmixVertical { get; set; } = 0;
    public double Mixup { get; set; } = 0;
    public double Cutout { get; set; } = 0;
    public double MixupAlpha { get; set; } = 0.4;
    public double CutmixAlpha { get; set; } = 1.0;
    public bool SkipBad { get; set; } = false;
    /// <summary>Synthetic default size: people in train and eval (used when Data is null).</summary>
    public int SynthPeople { get; set; } = 600;
    public int SynthEvalPeople { get; set; } = 200;

    // ---- derived, validated views ----

    [YamlIgnore] public ImageSize Size => global::MaskLab.Data.ImageSize.Parse(ImageSize);
    [YamlIgnore] public MixOptions Mixing => new(Cutmix, CutmixVertical, Mixup, Cutout, MixupAlpha, CutmixAlpha);
    [YamlIgnore] public AgeCuts TrainingAgeCuts => global::MaskLab.Data.AgeCuts.Parse(AgeCuts);

    static readonly string[] Optimizers = ["adam", "adamw", "sgd"];
    static readonly string[] Schedulers = ["cosine", "step", "none"];
    static readonly string[] Precisions = ["fp32", "bf16"];
    static readonly string[] Devices = ["auto", "cpu", "cuda"];

    /// <summary>Checks every value; the first problem is a <see cref="MaskLabInputException"/> naming key and value.</summary>
    public TrainConfig Validate()
    {
        _ = Size;
        try { _ = TrainingAgeCuts; } catch (FormatException e) { throw new MaskLabInputException(e.Message); }
        if (!Models.ModelRegistry.Contains(Model))
            throw new MaskLabInputException($"unknown model '{Model}'; known: {string.Join(", ", Models.ModelRegistry.Names)}");
        Losses.LossRegistry.Create(Loss, new Losses.LossOptions(18), LossAlpha); // names are checked here
        if (ClassWeights is { Length: > 0 } w && w is not ("balanced" or "none")) Losses.ClassWeights.Parse(w, w.Split(',').Length);
        if (Weights is { Length: > 0 } wf && !File.Exists(wf)) throw new MaskLabInputException($"weights file '{wf}' does not exist");
        Mixing.Validate();
        OneOf(Split, ["person", "image"], "split");
        if (Split == "image" && Folds > 1) throw new MaskLabInputException("split 'image' is only for a holdout split; k-fold is always by person (set folds 0)");
        Positive(Epochs, "epochs");
        Positive(BatchSize, "batch_size");
        if (!(Lr > 0) || double.IsInfinity(Lr)) throw Bad("lr", Lr);
        if (WeightDecay < 0) throw Bad("weight_decay", WeightDecay);
        if (Smoothing is < 0 or >= 1) throw Bad("smoothing", Smoothing);
        if (ValRatio is <= 0 or >= 1) throw Bad("val_ratio", ValRatio);
        if (Folds < 0 || Folds == 1) throw Bad("folds", Folds, "use 0 for a holdout split or 2 and more");
        if (Fold < -1 || (Folds > 1 && Fold >= Folds)) throw Bad("fold", Fold, $"must be -1 or 0..{Math.Max(0, Folds - 1)}");
        if (Patience < 0) throw Bad("patience", Patience);
        if (WarmupEpochs < 0) throw Bad("warmup_epochs", WarmupEpochs);
        if (Threads < 0) throw Bad("threads", Threads);
        OneOf(Head, Models.OutputHeads.Names, "head");
        Models.MultiHead.ParseWeights(HeadWeights);
        if (Head == "multi" && ClassWeights is { Length: > 0 } and not "none")
            throw new MaskLabInputException($"class_weights '{ClassWeights}' weigh the 18 classes of head: single; head: multi weighs its losses with head_weights");
        OneOf(Optimizer, Optimizers, "optimizer");
        OneOf(Scheduler, Schedulers, "scheduler");
        OneOf(Precision, Precisions, "precision");
        OneOf(Device, Devices, "device");
        if (Device == "cuda") throw new MaskLabInputException("device 'cuda' needs a CUDA build of libtorch, which this build does not include; use cpu or auto");
        if (SynthPeople < 10) throw Bad("synth_people", SynthPeople, "at least 10");
        if (SynthEvalPeople < 1) throw Bad("synth_eval_people", SynthEvalPeople);
        return this;
    }

    static void Positive(int v, string key) { if (v <= 0) throw Bad(key, v, "must be positive"); }

    static void OneOf(string v, string[] allowed, string key)
    {
        if (!allowed.Contains(v)) throw new MaskLabInputException($"{key} '{v}' is not one of {string.Join(", ", allowed)}");
    }

    static MaskLabInputException Bad(string key, object value, string? why = null) =>
        new($"{key} {Convert.ToString(value, CultureInfo.InvariantCulture)} is not valid{(why is null ? "" : ": " + why)}");

    // ---- YAML ----

    static readonly INamingConvention Naming = UnderscoredNamingConvention.Instance;

    /// <summary>The snake_case keys a config file and --set accept.</summary>
    public static IReadOnlyList<string> Keys { get; } = typeof(TrainConfig)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanWrite)
        .Select(p => Naming.Apply(p.Name))
        .ToArray();

    /// <summary>Loads a YAML file (or the defaults when null) and applies key=value overrides.</summary>
    public static TrainConfig Load(string? file, IEnumerable<string>? overrides = null)
    {
        var map = new Dictionary<string, string?>();
        if (file is not null)
        {
            if (!File.Exists(file)) throw new MaskLabInputException($"config file '{file}' does not exist");
            map = ReadMap(File.ReadAllText(file), file);
        }
        foreach (var o in overrides ?? [])
        {
            var eq = o.IndexOf('=');
            if (eq <= 0) throw new MaskLabInputException($"--set '{o}' is not key=value");
            map[o[..eq].Trim()] = o[(eq + 1)..].Trim();
        }
        return FromMap(map, file ?? "--set");
    }

    /// <summary>Builds a config from key / value text (the shape of a YAML mapping of scalars).</summary>
    public static TrainConfig FromMap(IReadOnlyDictionary<string, string?> map, string source)
    {
        var unknown = map.Keys.Where(k => !Keys.Contains(k)).ToArray();
        if (unknown.Length > 0)
            throw new MaskLabInputException($"unknown config key '{unknown[0]}' in {source}; known: {string.Join(", ", Keys)}");
        var config = new TrainConfig();
        foreach (var (key, text) in map)
        {
            var prop = typeof(TrainConfig).GetProperties().First(p => Naming.Apply(p.Name) == key);
            prop.SetValue(config, ConvertValue(text, prop.PropertyType, key));
        }
        return config;
    }

    static object? ConvertValue(string? text, Type type, string key)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if (text is null or "" or "null" or "~")
        {
            if (underlying is not null || !type.IsValueType) return null;
            throw new MaskLabInputException($"{key} needs a value");
        }
        var t = underlying ?? type;
        try
        {
            if (t == typeof(string)) return text;
            if (t == typeof(int)) return int.Parse(text, CultureInfo.InvariantCulture);
            if (t == typeof(double)) return double.Parse(text, CultureInfo.InvariantCulture);
            if (t == typeof(bool)) return text.ToLowerInvariant() switch
            {
                "true" or "yes" or "on" or "1" => true,
                "false" or "no" or "off" or "0" => false,
                _ => throw new FormatException(),
            };
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new MaskLabInputException($"{key} '{text}' is not a valid {FriendlyType(t)}");
        }
        throw new InvalidOperationException($"config type {t} not handled");
    }

    static string FriendlyType(Type t) => t == typeof(int) ? "whole number" : t == typeof(double) ? "number" : t == typeof(bool) ? "true/false" : t.Name;

    static Dictionary<string, string?> ReadMap(string yaml, string source)
    {
        try
        {
            var raw = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object?>>(yaml) ?? new();
            var map = new Dictionary<string, string?>();
            foreach (var (k, v) in raw)
            {
                map[k] = v switch
                {
                    null => null,
                    string s => s,
                    IEnumerable<object> list => string.Join(",", list),
                    _ => throw new MaskLabInputException($"config key '{k}' in {source} must be a single value"),
                };
            }
            return map;
        }
        catch (YamlException e)
        {
            throw new MaskLabInputException($"{source} is not valid YAML: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    /// <summary>YAML text of this config, every key written.</summary>
    public string ToYaml() => new SerializerBuilder().WithNamingConvention(Naming)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.Preserve).Build().Serialize(this);

    public TrainConfig Clone() => FromMap(ToMap(), "clone");

    public Dictionary<string, string?> ToMap() => typeof(TrainConfig).GetProperties()
        .Where(p => p.CanWrite)
        .ToDictionary(p => Naming.Apply(p.Name), p => p.GetValue(this) switch
        {
            null => null,
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            bool b => b ? "true" : "false",
            var v => Convert.ToString(v, CultureInfo.InvariantCulture),
        });
}
