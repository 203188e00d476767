using System.Text.Json.Serialization;

namespace MaskLab.Training;

/// <summary>One line of metrics.jsonl.</summary>
public sealed record EpochRecord(
    [property: JsonPropertyName("epoch")] int Epoch,
    [property: JsonPropertyName("train_loss")] double TrainLoss,
    [property: JsonPropertyName("val_loss")] double ValLoss,
    [property: JsonPropertyName("val_macro_f1")] double ValMacroF1,
    [property: JsonPropertyName("val_accuracy")] double ValAccuracy,
    [property: JsonPropertyName("val_mask_f1")] double? ValMaskF1,
    [property: JsonPropertyName("val_gender_f1")] double? ValGenderF1,
    [property: JsonPropertyName("val_age_f1")] double? ValAgeF1,
    [property: JsonPropertyName("lr")] double Lr,
    [property: JsonPropertyName("train_images_per_second")] double TrainImagesPerSecond,
    [property: JsonPropertyName("seconds")] double Seconds);

/// <summary>summary.json: what a run achieved and what made it.</summary>
public sealed record TrainSummary
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
    [JsonPropertyName("eval_macro_f1")] public double? EvalMacroF1 { get; init; }
    [JsonPropertyName("eval_accuracy")] public double? EvalAccuracy { get; init; }
    [JsonPropertyName("eval_mask_f1")] public double? EvalMaskF1 { get; init; }
    [JsonPropertyName("eval_gender_f1")] public double? EvalGenderF1 { get; init; }
    [JsonPropertyName("eval_age_f1")] public double? EvalAgeF1 { get; init; }
    [JsonPropertyName("submission")] public string? Submission { get; init; }
    // k-fold runs only: the root summary (val fields are the folds' means).
    [JsonPropertyName("folds"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? Folds { get; init; }
    [JsonPropertyName("fold_val_macro_f1"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<double>? FoldValMacroF1 { get; init; }
    [JsonPropertyName("oof_macro_f1"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? OofMacroF1 { get; init; }
    [JsonPropertyName("oof_accuracy"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? OofAccuracy { get; init; }
    [JsonPropertyName("oof_mask_f1"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? OofMaskF1 { get; init; }
    [JsonPropertyName("oof_gender_f1"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? OofGenderF1 { get; init; }
    [JsonPropertyName("oof_age_f1"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? OofAgeF1 { get; init; }
}
