using System.Runtime.InteropServices;
using MaskLab.Data.Layout;
using static TorchSharp.torch;

namespace MaskLab.Data.Loading;

/// <summary>What <see cref="OldCutmix"/> did to one image of a batch: its position, the 60+ sample pasted in, and which half.</summary>
internal readonly record struct OldCutmixRecord(int Position, int OldSample, bool LeftHalf);

/// <summary>
/// The first cohort's winner's oversampling of the 60+ band (<c>cutmix_old</c>): in every batch, <c>count</c> images get
/// their left or right half replaced by that half of a 60+ training photo drawn from the whole training split, and
/// their targets become half their own, half the old photo's class (by area, as CutMix mixes). Faces are centred
/// on this task, so the pasted half is half an older face. Works beside the weighted sampler and the other mixing.
/// Every draw comes from (seed, epoch, batch, slot), so a run repeats exactly whatever the thread timing.
/// </summary>
internal static class OldCutmix
{
    // Kept apart from the loader's shuffle (1), augmentation (2), mixing (3) and sampler (4) streams.
    const ulong OldStream = 5;

    /// <summary>
    /// The loader hook, or null when <paramref name="count"/> is 0.
    /// </summary>
    /// <param name="samples">The loader's samples (what batch sample indices point into).</param>
    /// <param name="oldIndices">Indices into <paramref name="samples"/> of the 60+ training photos to draw from.</param>
    /// <param name="label">Each sample's training class.</param>
    /// <param name="loader">The training loader's options: the old photo is augmented and normalised as it would be in a batch.</param>
    public static BatchTransform? Transform(IReadOnlyList<Sample> samples, IReadOnlyList<int> oldIndices, Func<Sample, int> label,
        ImageCache cache, LoaderOptions loader, int classes, int count, int seed)
    {
        if (count <= 0) return null;
        if (oldIndices.Count == 0) throw new MaskLabInputException("cutmix_old needs 60+ photos in the training split, and it has none");
        var labels = oldIndices.Select(i => label(samples[i])).ToArray();
        return (batch, epoch, index) => Apply(batch, samples, oldIndices, labels, cache, loader, classes, count, seed, epoch, index);
    }

    /// <summary>Pastes the halves into <paramref name="batch"/> in place and sets its soft targets; returns what was done.</summary>
    public static OldCutmixRecord[] Apply(Batch batch, IReadOnlyList<Sample> samples, IReadOnlyList<int> oldIndices, IReadOnlyList<int> oldLabels,
        ImageCache cache, LoaderOptions loader, int classes, int count, int seed, int epoch, int batchIndex)
    {
        int n = batch.Count, h = (int)batch.Images.shape[2], w = (int)batch.Images.shape[3], plane = h * w, imageFloats = 3 * plane;
        int k = Math.Min(count, n);
        var rng = new StreamRandom(OldStream, seed, epoch, batchIndex);
        // k distinct positions: the first k of a partial Fisher-Yates shuffle.
        var positions = Enumerable.Range(0, n).ToArray();
        for (int i = 0; i < k; i++)
        {
            int j = i + rng.NextInt(n - i);
            (positions[i], positions[j]) = (positions[j], positions[i]);
        }

        var targets = new float[n * classes];
        if (batch.SoftTargets is { } soft) soft.contiguous().data<float>().CopyTo(targets, 0);
        else
        {
            var labels = batch.Labels.data<long>().ToArray();
            for (int i = 0; i < n; i++) targets[i * classes + labels[i]] = 1;
        }

        var pixels = MemoryMarshal.Cast<byte, float>(batch.Images.bytes);
        var old = new float[imageFloats];
        int half = w / 2;
        float pastedShare = (float)half / w;
        var records = new OldCutmixRecord[k];
        var auxMixes = new (int Partner, double Share)[n];
        var auxRows = new float[k][];
        for (int s = 0; s < k; s++)
        {
            int position = positions[s];
            int pick = rng.NextInt(oldIndices.Count);
            int sample = oldIndices[pick];
            bool left = rng.NextDouble() < 0.5;
            RenderAsInBatch(cache.Get(samples[sample].Path).Span, cache, old, w, h, loader, epoch, sample);
            var own = pixels.Slice(position * imageFloats, imageFloats);
            int x0 = left ? 0 : w - half;
            for (int ch = 0; ch < 3; ch++)
                for (int y = 0; y < h; y++)
                    old.AsSpan(ch * plane + y * w + x0, half).CopyTo(own.Slice(ch * plane + y * w + x0, half));
            var t = targets.AsSpan(position * classes, classes);
            for (int c = 0; c < classes; c++) t[c] *= 1 - pastedShare;
            t[oldLabels[pick]] += pastedShare;
            records[s] = new OldCutmixRecord(position, sample, left);
            if (loader.AuxTargets is { } aux)
            {
                auxRows[s] = aux(samples[sample]);
                auxMixes[position] = (s, pastedShare);
            }
        }
        if (k > 0) batch.SoftTargets = tensor(targets, new long[] { n, classes }).DetachFromDisposeScope();
        if (loader.AuxTargets is not null) Mixing.BlendAuxTargets(batch, auxMixes, auxRows);
        return records;
    }

    /// <summary>One photo augmented and normalised as the loader would put it in a batch (a model's own input normalisation included).</summary>
    static void RenderAsInBatch(ReadOnlySpan<byte> rgb, ImageCache cache, float[] into, int w, int h, LoaderOptions loader, int epoch, int sample)
    {
        var normalization = loader.Input is null ? loader.Normalization : InputNormalization.LoaderPassThrough;
        Augmentation.Apply(rgb, cache.Width, cache.Height, into, w, h, loader.Augment, normalization, loader.Seed, epoch, sample);
        if (loader.Input is not { } input) return;
        using var one = tensor(into, new long[] { 1, 3, h, w });
        input.ApplyInPlace(one);
        one.data<float>().CopyTo(into, 0);
    }
}

/// <summary>Composition of loader hooks.</summary>
internal static class BatchTransforms
{
    /// <summary>Runs <paramref name="first"/>, then <paramref name="second"/>, on each batch; either may be null.</summary>
    public static BatchTransform? Chain(BatchTransform? first, BatchTransform? second) =>
        first is null ? second : second is null ? first : (batch, epoch, index) =>
        {
            first(batch, epoch, index);
            second(batch, epoch, index);
        };
}
