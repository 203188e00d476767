using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Evaluation;
using MaskLab.Losses;
using MaskLab.Models;
using MaskLab.Platform;
using MaskLab.Runs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Training;

/// <summary>
/// What the epoch loop of one run works with, set up once: the model with its starting weights on its device, the
/// output head, the optimiser (the backbone in a group of its own when fine-tuning splits it), the train step of the
/// run's precision, the training and validation loaders, and the state, restored from last.ckpt when resuming.
/// </summary>
internal sealed class TrainingSession : IDisposable
{
    public required nn.Module<Tensor, Tensor> Model { get; init; }
    public required IOutputHead Head { get; init; }
    public required OptimizerHelper Optimizer { get; init; }
    public required ITrainStep Step { get; init; }
    public required BatchLoader TrainLoader { get; init; }
    public required BatchLoader ValLoader { get; init; }
    /// <summary>Batches of a training epoch (a short last batch is dropped unless it is the only one).</summary>
    public required int Batches { get; init; }
    /// <summary>Each optimiser group's fraction of the scheduled learning rate (backbone, head when fine-tuning).</summary>
    public required double[] LrScales { get; init; }
    public required int[] ValTruth { get; init; }
    public required string[] ValPaths { get; init; }
    public required Device Device { get; init; }
    /// <summary>The training batches go to the model in the channels-last layout (the resolved <c>channels_last</c>).</summary>
    public bool ChannelsLast { get; init; }
    /// <summary>Where the run stands: epochs done, best F1, times, the random state; updated after every epoch.</summary>
    public required TrainingState State { get; set; }

    /// <summary>
    /// Builds the session for <paramref name="config"/> on <paramref name="data"/>. Starting weights are loaded
    /// unless <paramref name="resume"/> finds last.ckpt, whose weights, optimiser state and random state then take over.
    /// </summary>
    public static TrainingSession Open(RunConfig config, TrainingData data, RunDirectory run, Device device, Precision precision,
        bool channelsLast, ITrainingObserver observer, bool resume)
    {
        var set = data.Set;
        var size = config.ImageSize;
        torch.manual_seed(config.Seed);
        var (model, head) = RunModel.Create(config, set.ClassCount, set.IsTaskClasses, config.LossSection, ClassWeightsFor(config, data));
        var spec = RunModel.Spec(config, head);
        OptimizerHelper? optimizer = null;
        try
        {
            if (!resume) StartingWeights.Load(config, model, head.Outputs, set.ClassCount, observer);
            // Onto the device before the optimiser is made: its state is created beside the weights it updates.
            model.to(device);
            if (ConvolutionCheck.WrongLayers(model) is { Count: > 0 } wrong)
                observer.Warning($"libtorch's oneDNN computes {wrong.Count} of this model's convolutions wrongly on this CPU (dense ones with " +
                    $"17-31, 33-47, ... input channels; a probe is off by {ConvolutionCheck.ProbeError:0.##}), e.g. {wrong[0]}: its training here " +
                    "is not to be trusted; train it on another CPU or a GPU, or with ONEDNN_MAX_CPU_ISA=AVX2 (slower, and bf16 no longer native)");
            if (channelsLast && precision != Precision.Bf16 && device.type == DeviceType.CPU
                && ConvolutionCheck.ChannelsLastProbeError is var layoutError && layoutError > ConvolutionCheck.Tolerance)
                observer.Warning("libtorch's oneDNN computes fp32 1x1 convolutions of 272 or more output channels wrongly in the channels-last " +
                    $"layout on this CPU (a probe is off by {layoutError:0.##}): this run's training here is not to be " +
                    "trusted; drop channels_last, or train in bf16 (right in channels-last here)");
            var fineTune = config.FineTune;
            // From scratch, one parameter group; fine-tuning gives the backbone its own rate (and freezes it for a while).
            var split = fineTune.Splits ? BackboneSplit.Of(model, head.Outputs) : null;
            optimizer = Optimizers.Create(split is null
                ? [(model.parameters(), 1.0)]
                : [(split.Backbone, fineTune.BackboneLrScale), (split.Head, 1.0)], config.Optimization);

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

            var (trainLoader, batches) = MakeTrainLoader(config, data, head);
            var step = TrainSteps.Create(precision, model, () => ModelRegistry.Create(config.Model, spec), optimizer, head);
            if (step is Fp16TrainStep fp16 && state.LossScaler is { } scaler) fp16.Scaler.Load(scaler);
            return new TrainingSession
            {
                Model = model, Head = head, Optimizer = optimizer, Step = step, TrainLoader = trainLoader, Batches = batches,
                ValLoader = Inference.Loader(set.Samples, data.ValIndices, data.Cache, size, config.Seed, config.Input),
                LrScales = split is null ? [1.0] : [fineTune.BackboneLrScale, 1.0],
                ValTruth = data.ValIndices.Select(i => set.Samples[i].Label).ToArray(),
                ValPaths = data.ValIndices.Select(i => set.Samples[i].Path).ToArray(),
                Device = device, State = state, ChannelsLast = channelsLast,
            };
        }
        catch
        {
            optimizer?.Dispose();
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The training loader: the split's training photos and any pseudo-labelled eval photos, under the training age
    /// cuts, augmented, with the mixing augmentations, 60+ CutMix and the weighted sampler where asked for.
    /// </summary>
    static (BatchLoader Loader, int Batches) MakeTrainLoader(RunConfig config, TrainingData data, IOutputHead head)
    {
        var set = data.Set;
        var cuts = config.AgeCuts;
        var size = config.ImageSize;
        // Pseudo-labelled eval photos (if any) are trained on beside the split's training part, never validated on.
        var samples = data.LoaderSamples;
        var indices = data.LoaderTrainIndices;
        int n = indices.Length, bs = config.BatchSize;
        // A short last batch would give BatchNorm a noisy estimate; drop it unless it is the only batch.
        bool dropLast = n > bs;
        var options = new LoaderOptions(BatchSize: bs, Shuffle: true,
            Augment: config.Augment ? AugmentOptions.Default : AugmentOptions.None,
            Seed: config.Seed, DropLast: dropLast, Width: size.Width, Height: size.Height)
        {
            Input = config.Input,
            AuxTargets = head.AuxTargets,
        };
        var loader = new BatchLoader(samples, indices, s => s.TrainingLabel(cuts), data.Cache, options with
        {
            Transform = BatchTransforms.Chain(Mixing.Transform(config.Mixing, set.ClassCount, config.Seed),
                OldCutmix.Transform(samples, OldPhotos(config, samples, indices, set), s => s.TrainingLabel(cuts), data.Cache,
                    options, set.ClassCount, config.CutmixOld, config.Seed)),
            Sampler = config.WeightedSampler
                ? WeightedSampler.ClassBalanced(indices.Select(i => (long)samples[i].TrainingLabel(cuts)).ToArray(), config.Seed)
                : null,
        });
        return (loader, dropLast ? n / bs : 1);
    }

    /// <summary>The training photos in the 60+ band under the training age cuts (cutmix_old draws from them); none unless cutmix_old is on.</summary>
    static int[] OldPhotos(RunConfig config, IReadOnlyList<Sample> samples, int[] trainIndices, LabeledSet set)
    {
        if (config.CutmixOld <= 0) return [];
        if (!set.IsTaskClasses) throw new MaskLabInputException("cutmix_old pastes 60+ photos: it needs the 18 task classes");
        return trainIndices.Where(i => TaskClasses.Decode(samples[i].TrainingLabel(config.AgeCuts)).Age == AgeBand.Over60).ToArray();
    }

    static float[]? ClassWeightsFor(RunConfig config, TrainingData data)
    {
        var cuts = config.AgeCuts;
        var samples = data.LoaderSamples;
        return config.ClassWeights?.For(data.LoaderTrainIndices.Select(i => samples[i].TrainingLabel(cuts)).ToArray(), data.Set.ClassCount);
    }

    public void Dispose()
    {
        Step.Dispose();
        Optimizer.Dispose();
        Model.Dispose();
    }
}
