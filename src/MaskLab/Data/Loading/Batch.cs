using static TorchSharp.torch;

namespace MaskLab.Data.Loading;

/// <summary>
/// One batch from a <see cref="BatchLoader"/>. It owns its tensors: dispose it once the step is done (they were
/// made on the loader's thread, so a DisposeScope on the training thread does not hold them).
/// </summary>
public sealed class Batch : IDisposable
{
    Tensor? _softTargets;
    Tensor? _auxTargets;
    bool _disposed;

    public Batch(Tensor images, Tensor labels, int[] sampleIndices)
    {
        Images = images;
        Labels = labels;
        SampleIndices = sampleIndices;
    }

    /// <summary>float32 [N, 3, H, W], normalised.</summary>
    public Tensor Images { get; }

    /// <summary>int64 [N], the class of each image.</summary>
    public Tensor Labels { get; }

    /// <summary>Each image's index into the loader's sample list (not its position in the epoch).</summary>
    public int[] SampleIndices { get; }

    public int Count => SampleIndices.Length;

    /// <summary>
    /// float32 [N, C] target distributions, for mixing augmentations (CutMix, MixUp) that blend images and so
    /// their labels; null when the hard <see cref="Labels"/> are the targets. Setting it hands the tensor to this
    /// batch, which disposes it (and any tensor it replaces).
    /// </summary>
    public Tensor? SoftTargets
    {
        get => _softTargets;
        set
        {
            if (ReferenceEquals(value, _softTargets)) return;
            _softTargets?.Dispose();
            _softTargets = value;
        }
    }

    /// <summary>
    /// float32 [N, K] per-image targets of an auxiliary output (e.g. the ordinal age targets), made from
    /// <see cref="LoaderOptions.AuxTargets"/>; mixing augmentations blend its rows as they blend the labels. Null when
    /// the loader makes none. Setting it hands the tensor to this batch.
    /// </summary>
    public Tensor? AuxTargets
    {
        get => _auxTargets;
        set
        {
            if (ReferenceEquals(value, _auxTargets)) return;
            _auxTargets?.Dispose();
            _auxTargets = value;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Images.Dispose();
        Labels.Dispose();
        _softTargets?.Dispose();
        _softTargets = null;
        _auxTargets?.Dispose();
        _auxTargets = null;
    }
}
