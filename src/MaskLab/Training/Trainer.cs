using System.Diagnostics;
using MaskLab.Data;
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
/// rate, then a validation pass scored by macro F1; the best and the last weights are kept, and every epoch is
/// logged. A run directory that already holds a checkpoint is continued from it when resuming.
/// </summary>
/// <param name="precision">The precision to train in, <c>auto</c> already resolved (RunJob logs and records it); null resolves it here.</param>
public sealed class Trainer(RunConfig config, RunDirectory run, ITrainingObserver? observer = null, Device? device = null,
    ResolvedPrecision? precision = null)
{
    readonly ITrainingObserver observer = observer ?? SilentObserver.Instance;
    readonly Device device = device ?? CPU;
    readonly ResolvedPrecision precision = precision
        ?? PrecisionChoice.Resolve(config.Precision, (device ?? CPU).type == DeviceType.CUDA, CpuFeatures.OfThisMachine);

    /// <summary>Trains (or resumes) on <paramref name="data"/>, writing checkpoints, metrics and summary.json as it goes.</summary>
    public TrainingResult Train(TrainingData data, CancellationToken ct, bool resume)
    {
        var set = data.Set;
        var size = config.ImageSize;
        var cuts = config.AgeCuts;
        var schedule = config.Schedule;
        var optimization = config.Optimization;
        torch.manual_seed(config.Seed);

        var head = OutputHeads.Create(config.HeadSection, set.ClassCount, set.IsTaskClasses, config.LossSection, ClassWeightsFor(data));
        outputs = head.Outputs;
        var spec = new ModelSpec(head.Outputs, size.Width, size.Height);
        using var model = ModelRegistry.Create(config.Model, spec);
        if (!resume) LoadStartingWeights(model, head.Outputs, set.ClassCount);
        // Onto the device before the optimiser is made: its state is created beside the weights it updates.
        model.to(device);
        if (ConvolutionCheck.WrongLayers(model) is { Count: > 0 } wrong)
            observer.Warning($"libtorch's oneDNN computes {wrong.Count} of this model's convolutions wrongly on this CPU (dense ones with " +
                $"17-31, 33-47, ... input channels; a probe is off by {ConvolutionCheck.ProbeError:0.##}), e.g. {wrong[0]}: its training here " +
                "is not to be trusted; train it on another CPU or a GPU, or with ONEDNN_MAX_CPU_ISA=AVX2 (slower, and bf16 no longer native)");
        var fineTune = config.FineTune;
        // From scratch, one parameter group; fine-tuning gives the backbone its own rate (and freezes it for a while).
        var split = fineTune.Splits ? BackboneSplit.Of(model, head.Outputs) : null;
        lrScales = split is null ? [1.0] : [fineTune.BackboneLrScale, 1.0];
        using var optimizer = Optimizers.Create(split is null
            ? [(model.parameters(), 1.0)]
            : [(split.Backbone, fineTune.BackboneLrScale), (split.Head, 1.0)], optimization);

        var state = new TrainingState(0, double.NegativeInfinity, 0, 0, 0, 0, Checkpoint.RngState());
        if (resume && File.Exists(run.LastCheckpoint))
        {
            state = Checkpoint.Load(run.LastCheckpoint, model, optimizer);
            Checkpoint.RestoreRng(state.TorchRngState);
            observer.Stage($"resuming after epoch {state.EpochsDone} (best val macro F1 {state.BestMacroF1:F4} at epoch {state.BestEpoch})");
        }

        // Lines of epochs after the checkpoint (none, starting afresh) were written by a run stopped before its
        // checkpoint: those epochs are trained again.
        if (File.Exists(run.MetricsFile)) run.TruncateMetrics(state.EpochsDone);

        // Pseudo-labelled eval photos (if any) are trained on beside the split's training part, never validated on.
        var trainSamples = data.LoaderSamples;
        var trainIndices = data.LoaderTrainIndices;
        int n = trainIndices.Length, bs = config.BatchSize;
        // A short last batch would give BatchNorm a noisy estimate; drop it unless it is the only batch.
        bool dropLast = n > bs;
        int batches = dropLast ? n / bs : 1;
        var trainOptions = new LoaderOptions(BatchSize: bs, Shuffle: true,
            Augment: config.Augment ? AugmentOptions.Default : AugmentOptions.None,
            Seed: config.Seed, DropLast: dropLast, Width: size.Width, Height: size.Height)
        {
            Input = config.Input,
            AuxTargets = head.AuxTargets,
        };
        var trainLoader = new BatchLoader(trainSamples, trainIndices, s => s.TrainingLabel(cuts), data.Cache, trainOptions with
        {
            Transform = BatchTransforms.Chain(Mixing.Transform(config.Mixing, set.ClassCount, config.Seed),
                OldCutmix.Transform(trainSamples, OldPhotos(trainSamples, trainIndices, set), s => s.TrainingLabel(cuts), data.Cache,
                    trainOptions, set.ClassCount, config.CutmixOld, config.Seed)),
            Sampler = config.WeightedSampler
                ? WeightedSampler.ClassBalanced(trainIndices.Select(i => (long)trainSamples[i].TrainingLabel(cuts)).ToArray(), config.Seed)
                : null,
        });
        var valLoader = Inference.Loader(set.Samples, data.ValIndices, data.Cache, size, config.Seed, config.Input);

        using var step = TrainSteps.Create(precision.Precision, model, () => ModelRegistry.Create(config.Model, spec), optimizer, head);
        if (step is Fp16TrainStep fp16 && state.LossScaler is { } scaler) fp16.Scaler.Load(scaler);
        var writer = torch.utils.tensorboard.SummaryWriter(run.TensorBoardDir);
        var valTruth = data.ValIndices.Select(i => set.Samples[i].Label).ToArray();
        var valPaths = data.ValIndices.Select(i => set.Samples[i].Path).ToArray();
        bool stoppedEarly = false;

        for (int epoch = state.EpochsDone; epoch < config.Epochs; epoch++)
        {
            ct.ThrowIfCancellationRequested();
            observer.EpochStarted(epoch + 1, config.Epochs, batches);
            if (fineTune.Splits) PrepareBackbone(step.Compute, head.Outputs, fineTune, epoch);
            var clock = Stopwatch.StartNew();
            var (trainLoss, images) = TrainOneEpoch(step, optimizer, trainLoader, epoch, batches, ct);
            double trainSeconds = clock.Elapsed.TotalSeconds;

            var (probs, valLoss) = Inference.Run(model, head, valLoader, data.ValIndices.Length, set.ClassCount, withLoss: true, ct: ct);
            var valPredicted = Metrics.Argmax(probs);
            var report = Metrics.Evaluate(valTruth, valPredicted, set.ClassNames, set.IsTaskClasses);

            var record = new EpochRecord(epoch + 1, trainLoss, valLoss, report.MacroF1, report.Accuracy,
                report.MaskF1, report.GenderF1, report.AgeF1, LrSchedule.At(schedule, optimization.Lr, epoch, 0.0),
                images / trainSeconds, clock.Elapsed.TotalSeconds);
            bool improved = report.MacroF1 > state.BestMacroF1;
            state = state with
            {
                EpochsDone = epoch + 1,
                BestMacroF1 = improved ? report.MacroF1 : state.BestMacroF1,
                BestEpoch = improved ? epoch + 1 : state.BestEpoch,
                EpochsWithoutImprovement = improved ? 0 : state.EpochsWithoutImprovement + 1,
                TrainSeconds = state.TrainSeconds + trainSeconds,
                TrainImagesSeen = state.TrainImagesSeen + images,
                TorchRngState = Checkpoint.RngState(),
                LossScaler = (step as Fp16TrainStep)?.Scaler.State,
            };

            // last.ckpt is written last: it is what makes the epoch done. A run killed before it repeats the epoch on
            // resume (the same weights, so the same files) and drops the epoch's metrics line.
            if (improved)
            {
                Checkpoint.Save(run.BestCheckpoint, model, null, state);
                ConfusionCsv.Write(run.ConfusionFile, report);
                PerClassCsv.Write(run.PerClassFile, report);
                ValPredictions.Write(run.ValPredictionsFile, valPaths, valTruth, probs);
            }
            run.AppendMetrics(record);
            TensorBoardLog.Epoch(writer, record);
            TensorBoardImages.Log(writer, report.Confusion, set.ClassNames, valPaths, valTruth, valPredicted, data.Cache, epoch + 1);
            CrashPoint.Pass("epoch-files");
            Checkpoint.Save(run.LastCheckpoint, model, optimizer, state);
            observer.EpochDone(record, improved);

            if (config.Patience > 0 && state.EpochsWithoutImprovement >= config.Patience && epoch + 1 < config.Epochs)
            {
                stoppedEarly = true;
                observer.Stage($"no better val macro F1 for {config.Patience} epoch(s): stopping early");
                break;
            }
        }

        var best = run.ReadMetrics().FirstOrDefault(r => r.Epoch == state.BestEpoch);
        var result = new TrainingResult
        {
            Model = config.Model, Loss = config.Loss, Precision = precision.Name, ImageSize = size.ToString(),
            BestValMacroF1 = state.BestMacroF1, BestValAccuracy = best?.ValAccuracy ?? 0,
            BestValMaskF1 = best?.ValMaskF1, BestValGenderF1 = best?.ValGenderF1, BestValAgeF1 = best?.ValAgeF1,
            BestEpoch = state.BestEpoch, EpochsRun = state.EpochsDone, StoppedEarly = stoppedEarly,
            TrainSeconds = state.TrainSeconds,
            TrainImagesPerSecond = state.TrainSeconds > 0 ? state.TrainImagesSeen / state.TrainSeconds : 0,
            PeakMemoryMb = PeakMemory.Megabytes(),
            TrainImages = data.TrainIndices.Length, ValImages = data.ValIndices.Length,
            SkippedBadImages = data.SkippedBad, Classes = set.ClassCount, ClassNames = set.ClassNames,
            TaskClasses = set.IsTaskClasses, Data = data.DataDir,
            FaceCropPhotos = data.FaceCrop?.Photos, FaceCropFallbacks = data.FaceCrop?.Fallbacks,
            LabelFixesApplied = data.Fixes?.Applied.Count, LabelFixesPhotos = data.Fixes?.PhotosChanged,
            PseudoLabels = data.PseudoLabelling is null ? null : data.Pseudo.Count, PseudoLabelAccuracy = data.PseudoLabelling?.Accuracy,
        };
        run.WriteSummary(new RunSummary(result));
        return result;
    }

    /// <summary>Each optimiser group's fraction of the scheduled learning rate (backbone, head when fine-tuning).</summary>
    double[] lrScales = [1.0];

    /// <summary>The model's output width (the classifier's out_features), which tells the head from the backbone.</summary>
    int outputs;

    /// <summary>Weights named by the config: the model's embedded ImageNet weights, or a PyTorch / safetensors file.</summary>
    void LoadStartingWeights(nn.Module<Tensor, Tensor> model, int outputs, int classes)
    {
        if (config.EmbeddedWeights is { } embedded)
        {
            var r = embedded.LoadInto(model, outputs, MaskLabHome.Root);
            var cache = r.Cache.Outcome == WeightCacheOutcome.Reused ? "" : $"; converted once into {r.Cache.File} in {r.Cache.ConversionSeconds:F1} s";
            observer.Stage($"started from {embedded.Label} weights: {r.Load.Loaded} tensors, classifier fresh for {classes} classes{cache}");
        }
        else if (config.Weights is { Length: > 0 } weights)
        {
            var loaded = Pretrained.Load(model, weights, outputs);
            observer.Stage($"started from {weights}: {loaded.Loaded} tensors loaded{(loaded.SkippedClassifier.Count > 0 ? ", classifier left fresh for " + classes + " classes" : "")}");
        }
    }

    /// <summary>
    /// Before an epoch's batches: a frozen backbone computes no gradients (only the head trains), and with freeze_bn
    /// its BatchNorm layers keep their running statistics. Acts on the module that computes (the bf16 copy under
    /// mixed precision), after the step has put it in training mode.
    /// </summary>
    static void PrepareBackbone(nn.Module<Tensor, Tensor> compute, int outputs, FineTuneSpec fineTune, int epoch)
    {
        bool frozen = fineTune.BackboneFrozen(epoch);
        foreach (var p in BackboneSplit.Of(compute, outputs).Backbone) p.requires_grad = !frozen;
    }

    (double MeanLoss, long Images) TrainOneEpoch(ITrainStep step, OptimizerHelper optimizer, BatchLoader loader,
        int epoch, int batches, CancellationToken ct)
    {
        step.BeginEpoch();
        if (config.FreezeBn)
            foreach (var bn in BackboneSplit.BackboneNormLayers(step.Compute, outputs)) bn.eval();
        double lossSum = 0;
        long images = 0;
        int b = 0;
        // With accumulate: k, each group of k batches (fewer at the end of the epoch) makes one update, weighted as
        // one batch k times the size. The batches of an epoch are all full (the short last one is dropped), so equal
        // weights are exact; the learning rate is the one a k-times batch would have at that step.
        int k = config.Accumulate;
        var clock = Stopwatch.StartNew();
        foreach (var batch in DevicePrefetcher.ToDevice(loader.Epoch(epoch), device))
        {
            ct.ThrowIfCancellationRequested();
            int groupStart = b - b % k, groupSize = Math.Min(k, batches - groupStart);
            using (batch)
            {
                if (b == groupStart)
                {
                    double lr = LrSchedule.At(config.Schedule, config.Lr, epoch, (double)groupStart / Math.Max(batches, 1));
                    int g = 0;
                    foreach (var group in optimizer.ParamGroups) group.LearningRate = lr * lrScales[g++];
                }
                using var input = config.ChannelsLast ? ChannelsLast.Of(batch.Images) : batch.Images.alias();
                float value = step.Accumulate(input, batch.SoftTargets ?? batch.Labels, 1.0 / Math.Max(groupSize, 1), batch.AuxTargets);
                if (!float.IsFinite(value))
                    throw new TrainingStoppedException(
                        $"loss became {value} at epoch {epoch + 1}, batch {b + 1}; the last good checkpoint is kept (try a lower lr)");
                if (b + 1 >= groupStart + groupSize) step.Update();
                lossSum += value * batch.Count;
                images += batch.Count;
            }
            b++;
            CrashPoint.Pass("batch");
            observer.BatchDone(epoch + 1, b, lossSum / Math.Max(images, 1), images / clock.Elapsed.TotalSeconds);
        }
        return (lossSum / Math.Max(images, 1), images);
    }

    /// <summary>The training photos in the 60+ band under the training age cuts (cutmix_old draws from them); none unless cutmix_old is on.</summary>
    int[] OldPhotos(IReadOnlyList<Sample> samples, int[] trainIndices, LabeledSet set)
    {
        if (config.CutmixOld <= 0) return [];
        if (!set.IsTaskClasses) throw new MaskLabInputException("cutmix_old pastes 60+ photos: it needs the 18 task classes");
        return trainIndices.Where(i => TaskClasses.Decode(samples[i].TrainingLabel(config.AgeCuts)).Age == AgeBand.Over60).ToArray();
    }

    float[]? ClassWeightsFor(TrainingData data)
    {
        var cuts = config.AgeCuts;
        var samples = data.LoaderSamples;
        return config.ClassWeights switch
        {
            null or "" or "none" => null,
            "balanced" => ClassWeights.Balanced(data.LoaderTrainIndices.Select(i => samples[i].TrainingLabel(cuts)).ToArray(), data.Set.ClassCount),
            var list => ClassWeights.Parse(list, data.Set.ClassCount),
        };
    }
}
