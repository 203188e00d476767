using MaskLab.Data.Loading;
using MaskLab.Tracking;
using TorchSharp.Modules;

namespace MaskLab.Training;

/// <summary>The epoch's scalars, confusion picture and captioned validation photos in TensorBoard.</summary>
internal sealed class TensorBoardCallback(SummaryWriter writer, IReadOnlyList<string> classNames, ImageCache cache) : ITrainerCallback
{
    public void OnEpochEnd(TrainingSession session, EpochResult epoch)
    {
        TensorBoardLog.Epoch(writer, epoch.Record);
        TensorBoardImages.Log(writer, epoch.Report.Confusion, classNames, session.ValPaths, session.ValTruth, epoch.Predicted, cache, epoch.Index + 1);
    }
}
