using System.Diagnostics;
using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Evaluation;
using MaskLab.Losses;
using MaskLab.Models;
using MaskLab.Platform;
using MaskLab.Runs;
using MaskLab.Tracking;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Training;

/// <summary>
/// Trains one model on one split: for each epoch, a pass over the training photos with the scheduled learning
/// rate, then a validation pass scored by macro F1; what is kept and logged of each epoch is the callbacks' part
/// (<see cref="DefaultCallbacks"/>). A run directory that already holds a checkpoint is continued from it when resuming.
/// </summary>
/// <param name="precision">The precision to train in, <c>auto</c> already resolved (RunJob logs and records it); null resolves it here.</param>
/// <param name="layout">The layout of the training batches, <c>channels_last</c> resolved (RunJob logs and records it); null resolves it here.</param>
internal sealed class Trainer(RunConfig config, RunDirectory run, ITrainingObserver? observer = null, Device? device = null,
    ResolvedPrecision? precision = null, ResolvedLayout? layout = null)
{
    readonly ITrainingObserver observer = observer ?? SilentObserver.Instance;
    readonly Device device = device ?? CPU;
    readonly ResolvedPrecision precision = precision
        ?? PrecisionChoice.Resolve(config.Precision, (device ?? CPU).type == DeviceType.CUDA, CpuFeatures.OfThisMachine);

    ResolvedLayout Layout => layout ?? LayoutChoice.Resolve(config.ChannelsLast, precision.Precision, device.type == DeviceType.CUDA, LayoutChoice.ProbeWrong);

    /// <summary>The epochs this training runs, epochs auto decided (at the start of <see cref="Train"/>).</summary>
    int PlannedEpochs => config.Epochs ?? throw new InvalidOperationException("epochs auto is decided when training starts");

    /// <summary>Trains (or resumes) on <paramref name="data"/>, writing checkpoints, metrics and summary.json as it goes.</summary>
    public TrainingResult Train(TrainingData data, CancellationToken ct, bool resume)
    {
        // epochs auto is decided by the photos an epoch trains on (RunJob has logged and recorded it).
        config = config.WithEpochsFor(data.LoaderTrainIndices.Length);
        using var session = TrainingSession.Open(config, data, run, device, precision.Precision, Layout.ChannelsLast, observer, resume);
        var callbacks = DefaultCallbacks(data, session);
        bool stoppedEarly = false;
        for (int epoch = session.State.EpochsDone; epoch < PlannedEpochs; epoch++)
        {
            ct.ThrowIfCancellationRequested();
            session.Step.BeginEpoch();
            callbacks.EpochStart(session, epoch);
            var clock = Stopwatch.StartNew();
            var (trainLoss, images) = TrainEpoch(session, epoch, ct);
            double trainSeconds = clock.Elapsed.TotalSeconds;
            // Training and validation allocate buffers of other sizes (batch, layout, no gradients): the heap that keeps
            // freed buffers for reuse (NativeSetup) would otherwise hold both phases' leftovers, growing every epoch.
            NativeSetup.ReleaseFreeMemory();
            var (report, probabilities, predicted, valLoss) = Validate(session, data.Set, ct);
            NativeSetup.ReleaseFreeMemory();

            var record = new EpochRecord(epoch + 1, trainLoss, valLoss, report.MacroF1, report.Accuracy,
                report.MaskF1, report.GenderF1, report.AgeF1, LrSchedule.At(config.Schedule, config.Lr, epoch, 0.0),
                images / trainSeconds, clock.Elapsed.TotalSeconds);
            bool improved = report.MacroF1 > session.State.BestMacroF1;
            session.State = session.State.After(epoch, report.MacroF1, improved, trainSeconds, images, (session.Step as Fp16TrainStep)?.Scaler.State);
            callbacks.EpochEnd(session, new EpochResult(epoch, record, report, probabilities, predicted, improved));
            if (callbacks.StopRequested)
            {
                stoppedEarly = true;
                break;
            }
        }
        var result = Summarise(session.State, data, stoppedEarly);
        run.WriteSummary(new RunSummary(result));
        return result;
    }

    /// <summary>
    /// What every run keeps and tells, in the order it happens: before an epoch, the backbone's freeze schedule and
    /// progress; after it, the best checkpoint and its files, the metrics line, TensorBoard, last.ckpt (which makes
    /// the epoch done), progress, early stopping.
    /// </summary>
    TrainerCallbacks DefaultCallbacks(TrainingData data, TrainingSession session) => new(
    [
        new BackboneFreeze(config.FineTune, session.Head.Outputs),
        new BestCheckpoint(run),
        new MetricsLog(run),
        new TensorBoardCallback(torch.utils.tensorboard.SummaryWriter(run.TensorBoardDir), data.Set.ClassNames, data.Cache),
        new LastCheckpoint(run),
        new ProgressCallback(observer, PlannedEpochs),
        new EarlyStopping(config.Patience, PlannedEpochs, observer),
    ]);

    /// <summary>
    /// One pass over the training batches. With accumulate: k, each group of k batches (fewer at the end of the epoch)
    /// makes one update, weighted as one batch k times the size. The batches of an epoch are all full (the short last
    /// one is dropped), so equal weights are exact; the learning rate is the one a k-times batch would have at that step.
    /// </summary>
    (double MeanLoss, long Images) TrainEpoch(TrainingSession s, int epoch, CancellationToken ct)
    {
        double lossSum = 0;
        long images = 0;
        int b = 0, k = config.Accumulate, batches = s.Batches;
        var clock = Stopwatch.StartNew();
        foreach (var batch in DevicePrefetcher.ToDevice(s.TrainLoader.Epoch(epoch), s.Device))
        {
            ct.ThrowIfCancellationRequested();
            int groupStart = b - b % k, groupSize = Math.Min(k, batches - groupStart);
            using (batch)
            {
                if (b == groupStart)
                {
                    double lr = LrSchedule.At(config.Schedule, config.Lr, epoch, (double)groupStart / Math.Max(batches, 1));
                    int g = 0;
                    foreach (var group in s.Optimizer.ParamGroups) group.LearningRate = lr * s.LrScales[g++];
                }
                using var input = s.ChannelsLast ? ChannelsLast.Of(batch.Images) : batch.Images.alias();
                float value = s.Step.Accumulate(input, batch.SoftTargets ?? batch.Labels, 1.0 / Math.Max(groupSize, 1), batch.AuxTargets);
                if (!float.IsFinite(value))
                    throw new TrainingStoppedException(
                        $"loss became {value} at epoch {epoch + 1}, batch {b + 1}; the last good checkpoint is kept (try a lower lr)");
                if (b + 1 >= groupStart + groupSize) s.Step.Update();
                lossSum += value * batch.Count;
                images += batch.Count;
            }
            b++;
            CrashPoint.Pass("batch");
            observer.BatchDone(epoch + 1, b, lossSum / Math.Max(images, 1), images / clock.Elapsed.TotalSeconds);
        }
        return (lossSum / Math.Max(images, 1), images);
    }

    /// <summary>The validation photos' probabilities and predictions, scored, and the mean validation loss.</summary>
    static (EvaluationReport Report, float[,] Probabilities, int[] Predicted, double Loss) Validate(TrainingSession s, LabeledSet set, CancellationToken ct)
    {
        var (probabilities, loss, _) = Inference.Run(s.Model, s.Head, s.ValLoader, s.ValTruth.Length, set.ClassCount, withLoss: true, ct: ct);
        var predicted = Metrics.Argmax(probabilities);
        return (Metrics.Evaluate(s.ValTruth, predicted, set.ClassNames, set.IsTaskClasses), probabilities, predicted, loss);
    }

    /// <summary>summary.json's training part: the best epoch's scores (from metrics.jsonl), speed, and what the run trained on.</summary>
    TrainingResult Summarise(TrainingState state, TrainingData data, bool stoppedEarly)
    {
        var set = data.Set;
        var best = run.ReadMetrics().FirstOrDefault(r => r.Epoch == state.BestEpoch);
        return new TrainingResult
        {
            Model = config.Model, Loss = config.Loss.ToString(), Precision = precision.Name, ImageSize = config.ImageSize.ToString(),
            BestValMacroF1 = state.BestMacroF1, BestValAccuracy = best?.ValAccuracy ?? 0,
            BestValMaskF1 = best?.ValMaskF1, BestValGenderF1 = best?.ValGenderF1, BestValAgeF1 = best?.ValAgeF1,
            BestEpoch = state.BestEpoch, EpochsRun = state.EpochsDone, StoppedEarly = stoppedEarly, EpochsPlanned = PlannedEpochs,
            TrainSeconds = state.TrainSeconds,
            TrainImagesPerSecond = state.TrainSeconds > 0 ? state.TrainImagesSeen / state.TrainSeconds : 0,
            PeakMemoryMb = PeakMemory.Megabytes(),
            TrainImages = data.TrainIndices.Length, ValImages = data.ValIndices.Length,
            SkippedBadImages = data.SkippedBad, Classes = set.ClassCount, ClassNames = set.ClassNames,
            TaskClasses = set.IsTaskClasses, Data = data.DataDir,
            FaceCropPhotos = data.FaceCrop?.Photos, FaceCropFallbacks = data.FaceCrop?.Fallbacks,
            FaceCrop = data.FaceCropChoice is { } crop ? (crop.Crops ? "detect" : "none") : null,
            LabelFixesApplied = data.Fixes?.Applied.Count, LabelFixesPhotos = data.Fixes?.PhotosChanged,
            PseudoLabels = data.PseudoLabelling is null ? null : data.Pseudo.Count, PseudoLabelAccuracy = data.PseudoLabelling?.Accuracy,
        };
    }
}
