using MaskLab.Runs;
using TorchSharp.Modules;

namespace MaskLab.Tracking;

/// <summary>The scalars of one epoch in TensorBoard's Scalars tab.</summary>
internal static class TensorBoardLog
{
    public static void Epoch(SummaryWriter writer, EpochRecord r)
    {
        writer.add_scalar("loss/train", (float)r.TrainLoss, r.Epoch);
        writer.add_scalar("loss/val", (float)r.ValLoss, r.Epoch);
        writer.add_scalar("val/macro_f1", (float)r.ValMacroF1, r.Epoch);
        writer.add_scalar("val/accuracy", (float)r.ValAccuracy, r.Epoch);
        if (r.ValMaskF1 is { } m) writer.add_scalar("val/mask_f1", (float)m, r.Epoch);
        if (r.ValGenderF1 is { } g) writer.add_scalar("val/gender_f1", (float)g, r.Epoch);
        if (r.ValAgeF1 is { } a) writer.add_scalar("val/age_f1", (float)a, r.Epoch);
        writer.add_scalar("lr", (float)r.Lr, r.Epoch);
        writer.add_scalar("train/images_per_second", (float)r.TrainImagesPerSecond, r.Epoch);
    }
}
