using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace MaskLab.Runs;

/// <summary>What training achieved: the best validation epoch's scores, speed, and what the run trained on.</summary>
public sealed record TrainingResult
{
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("loss")] public required string Loss { get; init; }
    [JsonPropertyName("precision")] public required string Precision { get; init; }
    [JsonPropertyName("image_size")] public required string ImageSize { get; init; }
    [JsonPropertyName("best_val_macro_f1")] public double BestValMacroF1 { get; init; }
    [JsonPropertyName("best_val_accuracy")] public double BestValAccuracy { get; init; }
    [JsonPropertyName("best_val_mask_f1")] public double? BestValMaskF1 { get; init; }
    [JsonPropertyName("best_val_gender_f1")] public double? BestValGenderF1 { get; init; }
    [JsonPropertyName("best_val_age_f1")] public double? BestValAgeF1 { get; init; }
    [JsonPropertyName("best_epoch")] public int BestEpoch { get; init; }
    [JsonPropertyName("epochs_run")] public int EpochsRun { get; init; }
    /// <summary>The epochs the run was to train: the number set, or what epochs auto gave for its data.</summary>
    [JsonPropertyName("epochs_planned"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? EpochsPlanned { get; init; }
    [JsonPropertyName("stopped_early")] public bool StoppedEarly { get; init; }
    [JsonPropertyName("train_seconds")] public double TrainSeconds { get; init; }
    [JsonPropertyName("train_images_per_second")] public double TrainImagesPerSecond { get; init; }
    /// <summary>Peak resident memory of the training process in MiB (VmHWM), read when training ends.</summary>
    [JsonPropertyName("peak_memory_mb")] public double? PeakMemoryMb { get; init; }
    [JsonPropertyName("train_images")] public int TrainImages { get; init; }
    [JsonPropertyName("val_images")] public int ValImages { get; init; }
    [JsonPropertyName("skipped_bad_images")] public int SkippedBadImages { get; init; }
    [JsonPropertyName("classes")] public int Classes { get; init; }
    [JsonPropertyName("class_names")] public IReadOnlyList<string> ClassNames { get; init; } = [];
    [JsonPropertyName("task_classes")] public bool TaskClasses { get; init; }
    [JsonPropertyName("data")] public string? Data { get; init; }
    /// <summary>Photos cut around a face (face_crop: detect) and those that got the centred fallback, no face found.</summary>
    [JsonPropertyName("face_crop_photos"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? FaceCropPhotos { get; init; }
    /// <summary>
    /// The face crop the photos were read with, detect or none: face_crop auto resolved by the data it trained on, which
    /// eval, predict and the dashboard then repeat on any photos. Null in runs older than face_crop auto.
    /// </summary>
    [JsonPropertyName("face_crop"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? FaceCrop { get; init; }
    [JsonPropertyName("face_crop_fallbacks"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? FaceCropFallbacks { get; init; }
    /// <summary>Label fixes applied and the photos they changed or left out (label_fixes).</summary>
    [JsonPropertyName("label_fixes_applied"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? LabelFixesApplied { get; init; }
    [JsonPropertyName("label_fixes_photos"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? LabelFixesPhotos { get; init; }
    /// <summary>Eval photos trained on with predicted labels (pseudo_labels), and the share of them right where answers are known.</summary>
    [JsonPropertyName("pseudo_labels"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? PseudoLabels { get; init; }
    [JsonPropertyName("pseudo_label_accuracy"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? PseudoLabelAccuracy { get; init; }

    /// <summary>Whether a run with this result has done all it was asked to: every epoch, or stopped early on patience.</summary>
    /// <param name="epochs">The epochs planned; null for epochs auto, whose count <see cref="EpochsPlanned"/> records.</param>
    public bool Completes(int? epochs) => EpochsRun >= (epochs ?? EpochsPlanned ?? int.MaxValue) || StoppedEarly;
}

/// <summary>The eval set's scores: the run's submission for eval/, scored on answers.csv where the data has it.</summary>
public sealed record EvalScores
{
    [JsonPropertyName("eval_macro_f1")] public double? MacroF1 { get; init; }
    [JsonPropertyName("eval_accuracy")] public double? Accuracy { get; init; }
    [JsonPropertyName("eval_mask_f1")] public double? MaskF1 { get; init; }
    [JsonPropertyName("eval_gender_f1")] public double? GenderF1 { get; init; }
    [JsonPropertyName("eval_age_f1")] public double? AgeF1 { get; init; }
    [JsonPropertyName("submission")] public string? Submission { get; init; }
    /// <summary>The checkpoint that made the submission: best or last (the run's eval_checkpoint).</summary>
    [JsonPropertyName("eval_checkpoint"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Checkpoint { get; init; }
    /// <summary>Eval photos that got the centred fallback crop (no face found), where the run crops faces.</summary>
    [JsonPropertyName("eval_face_crop_fallbacks"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? FaceCropFallbacks { get; init; }
}

/// <summary>A k-fold run's out-of-fold scores (every training photo scored by the fold model that never saw its person).</summary>
public sealed record OofScores
{
    [JsonPropertyName("folds")] public int Folds { get; init; }
    [JsonPropertyName("fold_val_macro_f1")] public IReadOnlyList<double> FoldValMacroF1 { get; init; } = [];
    [JsonPropertyName("oof_macro_f1")] public double MacroF1 { get; init; }
    [JsonPropertyName("oof_accuracy")] public double Accuracy { get; init; }
    [JsonPropertyName("oof_mask_f1")] public double? MaskF1 { get; init; }
    [JsonPropertyName("oof_gender_f1")] public double? GenderF1 { get; init; }
    [JsonPropertyName("oof_age_f1")] public double? AgeF1 { get; init; }
}

/// <summary>
/// summary.json: one flat JSON object (the keys scripts read: best_val_macro_f1, eval_macro_f1, oof_macro_f1, ...)
/// made of three parts: training, the eval set's scores and, for a k-fold root, the out-of-fold scores. The eval keys
/// are always written (null until the eval set is scored); the k-fold keys only for a k-fold root.
/// </summary>
public sealed record RunSummary(TrainingResult Training, EvalScores? Eval = null, OofScores? Oof = null)
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public string ToJson() => ToJsonObject().ToJsonString(Indented);

    public JsonObject ToJsonObject()
    {
        var o = (JsonObject)JsonSerializer.SerializeToNode(Training)!;
        Merge(o, JsonSerializer.SerializeToNode(Eval ?? new EvalScores())!.AsObject());
        if (Oof is not null) Merge(o, JsonSerializer.SerializeToNode(Oof)!.AsObject());
        return o;
    }

    static void Merge(JsonObject into, JsonObject from)
    {
        foreach (var (k, v) in from.ToList())
        {
            from.Remove(k);
            into[k] = v;
        }
    }

    /// <summary>Reads the text of a summary.json; throws <see cref="JsonException"/> when it is not one.</summary>
    public static RunSummary Parse(string json)
    {
        var node = JsonNode.Parse(json) as JsonObject ?? throw new JsonException("summary.json is not a JSON object");
        var training = node.Deserialize<TrainingResult>() ?? throw new JsonException("summary.json holds no training result");
        EvalScores? eval = node["eval_macro_f1"] is not null || node["submission"] is not null ? node.Deserialize<EvalScores>() : null;
        OofScores? oof = node["oof_macro_f1"] is not null ? node.Deserialize<OofScores>() : null;
        return new RunSummary(training, eval, oof);
    }
}
