using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Models;
using MaskLab.Platform;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Evaluation;

/// <summary>Class probabilities of a model over a loader's batches, in sample order.</summary>
public static class Inference
{
    /// <summary>Inference batches: no gradients, so larger batches cost no memory worth noticing.</summary>
    public const int BatchSize = 64;

    /// <summary>Batches of the photos at <paramref name="indices"/> in order, unaugmented, at the model's input size.</summary>
    public static BatchLoader Loader(IReadOnlyList<Sample> samples, int[] indices, ImageCache cache, ImageSize size, int seed,
        InputNormalization? input = null) =>
        new(samples, indices, s => s.Label, cache, new LoaderOptions(BatchSize: BatchSize, Shuffle: false,
            Augment: AugmentOptions.None, Seed: seed, DropLast: false, Width: size.Width, Height: size.Height) { Input = input });

    /// <summary>
    /// Runs the model in eval mode without gradients. Returns probabilities [rows = loader indices order, C], the
    /// mean loss when <paramref name="withLoss"/> is set, and each photo's predicted age in years where the head has an
    /// age output in years (<see cref="IOutputHead.Ages"/>; null elsewhere). With <paramref name="flipTta"/> the horizontally
    /// flipped view is averaged in (faces are near-symmetric, so the flip is a label-preserving second look).
    /// </summary>
    public static (float[,] Probabilities, double MeanLoss, float[]? Ages) Run(
        nn.Module<Tensor, Tensor> model, IOutputHead head, BatchLoader loader, int rows, int classes,
        bool withLoss = false, bool flipTta = false, Action<int>? onBatch = null, CancellationToken ct = default)
    {
        model.eval();
        var device = model.parameters().FirstOrDefault()?.device ?? CPU;
        // fp32 convolutions run faster in channels-last on a CPU, where oneDNN computes them right in it (probed here,
        // under the thread count in force): the same probabilities up to rounding.
        bool channelsLast = device.type == DeviceType.CPU && !ConvolutionCheck.ChannelsLastWrong;
        var probs = new float[rows, classes];
        float[]? ages = null;
        double lossSum = 0;
        int row = 0, batches = 0;
        using var _ = no_grad();
        foreach (var batch in DevicePrefetcher.ToDevice(loader.Epoch(0), device))
        {
            ct.ThrowIfCancellationRequested();
            using var batchScope = NewDisposeScope();
            using (batch)
            {
                var images = channelsLast ? ChannelsLast.Of(batch.Images) : batch.Images;
                var logits = model.call(images);
                if (withLoss) lossSum += head.Loss(logits, batch.Labels).to_type(ScalarType.Float32).item<float>() * batch.Count;
                // The mirrored view is computed once and read for both the probabilities and the ages.
                var flipped = flipTta ? model.call(channelsLast ? ChannelsLast.Of(batch.Images.flip(3)) : batch.Images.flip(3)) : null;
                var p = head.Probabilities(logits);
                if (flipped is not null) p = (p + head.Probabilities(flipped)) / 2;
                var values = p.cpu().contiguous().data<float>().ToArray();
                if (head.Ages(logits) is { } a)
                {
                    ages ??= new float[rows];
                    if (flipped is not null && head.Ages(flipped) is { } mirrored) a = (a + mirrored) / 2;
                    a.cpu().contiguous().data<float>().ToArray().CopyTo(ages, row);
                }
                for (int i = 0; i < batch.Count; i++)
                    for (int c = 0; c < classes; c++)
                        probs[row + i, c] = values[i * classes + c];
                row += batch.Count;
            }
            onBatch?.Invoke(++batches);
        }
        return (probs, withLoss && row > 0 ? lossSum / row : double.NaN, ages);
    }
}
