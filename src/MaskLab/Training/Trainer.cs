using System.Diagnostics;
using MaskLab.Data;
using MaskLab.Evaluation;
using MaskLab.Losses;
using MaskLab.Models;
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
public sealed class Trainer(TrainConfig config, RunDirectory run, ITrainingObserver? observer = null)
{
    readonly ITrainingObserver observer = observer ?? SilentObserver.Instance;

    public TrainSummary Run(CancellationToken ct = default, bool resume = false)
    {
        config.Validate();
        if (config.Threads > 0) torch.set_num_threads(config.Threads);
        run.Create();
        if (!resume || !run.HasConfig) RunDirectory.WriteAllTextAtomic(run.ConfigFile, config.ToYaml());

        var started = DateTimeOffset.UtcNow;
        var data = TrainingData.Load(config, observer, ct);
        data.WriteSplit(run.SplitFile);
        RunMetadata.WriteStart(run.Path, config, data.Set.Samples.Select(s => s.Path), started);
        var summary = Train(data, ct, resume);
        RunMetadata.WriteEnd(run.Path);
        return summary;
    }

    public TrainSummary Train(TrainingData data, CancellationToken ct, bool resume)
    {
        var set = data.Set;
        var size = config.Size;
        var cuts = config.TrainingAgeCuts;
        torch.manual_seed(config.Seed);

        var lossOptions = new LossOptions(set.ClassCount, config.Smoothing, config.FocalGamma, ClassWeightsFor(data));
        var head = OutputHeads.Create(config, set.ClassCount, set.IsTaskClasses, lossOptions);
        using var model = ModelRegistry.Create(config.Model, new ModelSpec(head.Outputs, size.Width, size.Height));
        if (config.Weights is { Length: > 0 } weights && !resume)
        {
            var loaded = Pretrained.Load(model, weights, head.Outputs);
            observer.Stage($"started from {weights}: {loaded.Loaded} tensors loaded{(loaded.SkippedClassifier.Count > 0 ? ", classifier left fresh for " + set.ClassCount + " classes" : "")}");
        }
        using var optimizer = MakeOptimizer(model);

        var state = new TrainingState(0, double.NegativeInfinity, 0, 0, 0, 0, Checkpoint.RngState());
        if (resume && File.Exists(run.LastCheckpoint))
        {
            state = Checkpoint.Load(run.LastCheckpoint, model, optimizer);
            Checkpoint.RestoreRng(state.TorchRngState);
            run.TruncateMetrics(state.EpochsDone);
            observer.Stage($"resuming after epoch {state.EpochsDone} (best val macro F1 {state.BestMacroF1:F4} at epoch {state.BestEpoch})");
        }

        int n = data.TrainIndices.Length, bs = config.BatchSize;
        // A short last batch would give BatchNorm a noisy estimate; drop it unless it is the only batch.
        bool dropLast = n > bs;
        int batches = dropLast ? n / bs : 1;
        var trainLoader = new BatchLoader(set.Samples, data.TrainIndices, s => s.TrainingLabel(cuts), data.Cache,
            new LoaderOptions(BatchSize: bs, Shuffle: true,
                Augment: config.Augment ? AugmentOptions.Default : AugmentOptions.None,
                Seed: config.Seed, DropLast: dropLast, Width: size.Width, Height: size.Height)
            {
                Transform = Mixing.Transform(config.Mixing, set.ClassCount, config.Seed),
                Sampler = config.WeightedSampler
                    ? WeightedSampler.ClassBalanced(data.TrainIndices.Select(i => (long)set.Samples[i].TrainingLabel(cuts)).ToArray(), config.Seed)
                    : null,
            });
        var valLoader = EvalLoader(set.Samples, data.ValIndices, data.Cache, config);

        using var step = TrainSteps.Create(config.Precision, model,
            () => ModelRegistry.Create(config.Model, new ModelSpec(head.Outputs, size.Width, size.Height)), optimizer, head);
        var writer = torch.utils.tensorboard.SummaryWriter(run.TensorBoardDir);
        var valTruth = data.ValIndices.Select(i => set.Samples[i].Label).ToArray();
        var valPaths = data.ValIndices.Select(i => set.Samples[i].Path).ToArray();
        bool stoppedEarly = false;

        for (int epoch = state.EpochsDone; epoch < config.Epochs; epoch++)
        {
            ct.ThrowIfCancellationRequested();
            observer.EpochStarted(epoch + 1, config.Epochs, batches);
            var clock = Stopwatch.StartNew();
            var (trainLoss, images) = TrainOneEpoch(step, optimizer, trainLoader, epoch, batches, ct);
            double trainSeconds = clock.Elapsed.TotalSeconds;

            var (probs, valLoss) = Inference.Run(model, head, valLoader, data.ValIndices.Length, set.ClassCount, withLoss: true, ct: ct);
            var valPredicted = Metrics.Argmax(probs);
            var report = Metrics.Evaluate(valTruth, valPredicted, set.ClassNames, set.IsTaskClasses);

            var record = new EpochRecord(epoch + 1, trainLoss, valLoss, report.MacroF1, report.Accuracy,
                report.MaskF1, report.GenderF1, report.AgeF1, LrSchedule.At(config, epoch, 0.0),
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
            };

            if (improved)
            {
                Checkpoint.Save(run.BestCheckpoint, model, null, state);
                ConfusionCsv.Write(run.ConfusionFile, report);
                PerClassCsv.Write(run.PerClassFile, report);
                ValPredictions.Write(ValPredictions.PathIn(run.Path), valPaths, valTruth, probs);
            }
            Checkpoint.Save(run.LastCheckpoint, model, optimizer, state);
            run.AppendMetrics(record);
            Log(writer, record);
            TensorBoardImages.Log(writer, report.Confusion, set.ClassNames, valPaths, valTruth, valPredicted, data.Cache, epoch + 1);
            observer.EpochDone(record, improved);

            if (config.Patience > 0 && state.EpochsWithoutImprovement >= config.Patience && epoch + 1 < config.Epochs)
            {
                stoppedEarly = true;
                observer.Stage($"no better val macro F1 for {config.Patience} epoch(s): stopping early");
                break;
            }
        }

        var best = run.ReadMetrics().FirstOrDefault(r => r.Epoch == state.BestEpoch);
        var summary = new TrainSummary
        {
            Model = config.Model, Loss = config.Loss, Precision = config.Precision, ImageSize = size.ToString(),
            BestValMacroF1 = state.BestMacroF1, BestValAccuracy = best?.ValAccuracy ?? 0,
            BestValMaskF1 = best?.ValMaskF1, BestValGenderF1 = best?.ValGenderF1, BestValAgeF1 = best?.ValAgeF1,
            BestEpoch = state.BestEpoch, EpochsRun = state.EpochsDone, StoppedEarly = stoppedEarly,
            TrainSeconds = state.TrainSeconds,
            TrainImagesPerSecond = state.TrainSeconds > 0 ? state.TrainImagesSeen / state.TrainSeconds : 0,
            PeakMemoryMb = PeakMemory.Megabytes(),
            TrainImages = data.TrainIndices.Length, ValImages = data.ValIndices.Length,
            SkippedBadImages = data.SkippedBad, Classes = set.ClassCount, ClassNames = set.ClassNames,
            TaskClasses = set.IsTaskClasses, Data = data.DataDir,
        };
        RunDirectory.WriteJsonAtomic(run.SummaryFile, summary);
        return summary;
    }

    (double MeanLoss, long Images) TrainOneEpoch(ITrainStep step, OptimizerHelper optimizer, BatchLoader loader,
        int epoch, int batches, CancellationToken ct)
    {
        step.BeginEpoch();
        double lossSum = 0;
        long images = 0;
        int b = 0;
        var clock = Stopwatch.StartNew();
        foreach (var batch in loader.Epoch(epoch))
        {
            ct.ThrowIfCancellationRequested();
            using (batch)
            {
                double lr = LrSchedule.At(config, epoch, (double)b / Math.Max(batches, 1));
                foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
                float value = step.Run(batch.Images, batch.SoftTargets ?? batch.Labels);
                if (!float.IsFinite(value))
                    throw new TrainingStoppedException(
                        $"loss became {value} at epoch {epoch + 1}, batch {b + 1}; the last good checkpoint is kept (try a lower lr)");
                lossSum += value * batch.Count;
                images += batch.Count;
            }
            b++;
            observer.BatchDone(epoch + 1, b, lossSum / Math.Max(images, 1), images / clock.Elapsed.TotalSeconds);
        }
        return (lossSum / Math.Max(images, 1), images);
    }

    float[]? ClassWeightsFor(TrainingData data)
    {
        var cuts = config.TrainingAgeCuts;
        return config.ClassWeights switch
        {
            null or "" or "none" => null,
            "balanced" => ClassWeights.Balanced(data.TrainIndices.Select(i => data.Set.Samples[i].TrainingLabel(cuts)).ToArray(), data.Set.ClassCount),
            var list => ClassWeights.Parse(list, data.Set.ClassCount),
        };
    }

    OptimizerHelper MakeOptimizer(nn.Module<Tensor, Tensor> model) => config.Optimizer switch
    {
        "sgd" => optim.SGD(model.parameters(), config.Lr, momentum: config.Momentum, weight_decay: config.WeightDecay),
        "adam" => optim.Adam(model.parameters(), config.Lr, weight_decay: config.WeightDecay),
        _ => optim.AdamW(model.parameters(), config.Lr, weight_decay: config.WeightDecay),
    };

    /// <summary>Inference batches: no gradients, so larger batches cost no memory worth noticing.</summary>
    public const int EvalBatchSize = 64;

    public static BatchLoader EvalLoader(IReadOnlyList<Sample> samples, int[] indices, ImageCache cache, TrainConfig c) =>
        new(samples, indices, s => s.Label, cache, new LoaderOptions(BatchSize: EvalBatchSize, Shuffle: false,
            Augment: AugmentOptions.None, Seed: c.Seed, DropLast: false, Width: c.Size.Width, Height: c.Size.Height));

    static void Log(SummaryWriter writer, EpochRecord r)
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
