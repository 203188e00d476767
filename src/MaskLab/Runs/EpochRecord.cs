using System.Text.Json.Serialization;

namespace MaskLab.Runs;

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
