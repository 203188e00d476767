using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using MaskLab.Data.Layout;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Data.Loading;

/// <summary>Runs on the loader's thread on each finished batch before it is handed out, e.g. to mix images and set <see cref="Batch.SoftTargets"/>.</summary>
public delegate void BatchTransform(Batch batch, int epoch, int batchIndex);

/// <summary>How a <see cref="BatchLoader"/> makes batches.</summary>
/// <param name="BatchSize">Images a batch.</param>
/// <param name="Shuffle">Visit the indices in an order drawn from (<paramref name="Seed"/>, epoch); otherwise in the order given.</param>
/// <param name="Augment">Per-image augmentation; <see cref="AugmentOptions.None"/> for evaluation.</param>
/// <param name="Seed">Seeds the shuffle and every image's augmentation.</param>
/// <param name="DropLast">Leave out a last batch smaller than <paramref name="BatchSize"/>.</param>
/// <param name="Width">Width of the images handed out.</param>
/// <param name="Height">Height of the images handed out.</param>
public sealed record LoaderOptions(int BatchSize, bool Shuffle, AugmentOptions Augment, int Seed, bool DropLast, int Width, int Height)
{
    /// <summary>
    /// Finished batches that may wait for the consumer. One more can be in the making, so at most
    /// Prefetch + 1 batches exist besides the one being trained on. Two hides the variation of one image's cost.
    /// </summary>
    public int Prefetch { get; init; } = 2;

    public ImageNormalization Normalization { get; init; } = ImageNormalization.Task;

    /// <summary>
    /// The input a pretrained model expects (e.g. a per-pixel mean image), applied to the whole batch; when set it
    /// replaces <see cref="Normalization"/>, and the images are normalised before <see cref="Transform"/> sees them.
    /// </summary>
    public InputNormalization? Input { get; init; }

    /// <summary>Optional step run on each batch in the background; see <see cref="BatchTransform"/>.</summary>
    public BatchTransform? Transform { get; init; }

    /// <summary>Each sample's row of <see cref="Batch.AuxTargets"/> (all rows of one length); null makes none.</summary>
    public Func<Sample, float[]>? AuxTargets { get; init; }

    /// <summary>Replaces the epoch's order: positions into the loader's indices, of the same count, repeats allowed (e.g. <see cref="WeightedSampler"/>).</summary>
    public Func<int, int[]>? Sampler { get; init; }

    /// <summary>Every index once, in order, no augmentation, nothing dropped: for validation and prediction.</summary>
    public static LoaderOptions ForEvaluation(int batchSize, int width, int height) =>
        new(batchSize, Shuffle: false, AugmentOptions.None, Seed: 0, DropLast: false, width, height);
}

/// <summary>
/// Makes training and evaluation batches from cached images, preparing the next batches on one background
/// thread while the current one trains. TorchSharp's DataLoader builds each batch only when asked, so the model
/// waits for it; here the wait is hidden unless making a batch takes longer than training on one.
/// </summary>
/// <remarks>
/// <para>One producer, not several: training already keeps the other core busy, and augmenting a cached image
/// costs far less than a training step on it, so one thread keeps ahead.</para>
/// <para>Abandoning an epoch (leaving a foreach, disposing its enumerator) cancels the producer, waits for it and
/// disposes the batches it made that nobody took. An enumerator dropped without being disposed leaves no
/// blocked thread: a producer waiting for room awaits asynchronously, so only garbage stays behind.</para>
/// </remarks>
public sealed class BatchLoader
{
    readonly IReadOnlyList<Sample> _samples;
    readonly int[] _indices;
    readonly long[] _labels;
    readonly ImageCache _cache;

    /// <param name="samples">The data set; indices point into it.</param>
    /// <param name="indices">Which samples this loader serves (a split's part), each once per epoch.</param>
    /// <param name="label">The class to train on for a sample (e.g. its label under other age cuts).</param>
    /// <param name="cache">Decoded images; those missing are decoded on demand.</param>
    public BatchLoader(IReadOnlyList<Sample> samples, int[] indices, Func<Sample, int> label, ImageCache cache, LoaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(label);
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize, "BatchSize");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Width, "Width");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Height, "Height");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Prefetch, "Prefetch");
        options.Augment.Validate();

        _samples = samples;
        _indices = (int[])indices.Clone();
        _labels = new long[_indices.Length];
        for (int i = 0; i < _indices.Length; i++)
        {
            int index = _indices[i];
            if ((uint)index >= (uint)samples.Count)
                throw new ArgumentOutOfRangeException(nameof(indices), index, $"sample index out of range 0..{samples.Count - 1}");
            _labels[i] = label(samples[index]);
        }
        _cache = cache;
        Options = options;
    }

    public LoaderOptions Options { get; }

    /// <summary>Samples this loader serves in an epoch (before any last partial batch is dropped).</summary>
    public int SampleCount => _indices.Length;

    /// <summary>Batches an epoch yields.</summary>
    public int BatchCount => Options.DropLast
        ? _indices.Length / Options.BatchSize
        : (_indices.Length + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>
    /// The order of the epoch, as positions into the indices given to the constructor: a permutation drawn from
    /// (seed, epoch) when shuffling, else 0, 1, 2, ...
    /// </summary>
    public int[] Order(int epoch)
    {
        if (Options.Sampler is { } sampler)
        {
            var drawn = sampler(epoch);
            if (drawn.Length != _indices.Length || drawn.Any(p => (uint)p >= (uint)_indices.Length))
                throw new InvalidOperationException($"the sampler must give {_indices.Length} positions in 0..{_indices.Length - 1}");
            return drawn;
        }
        var order = new int[_indices.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        if (!Options.Shuffle) return order;
        var rng = new StreamRandom(StreamRandom.ShuffleStream, Options.Seed, epoch, 0);
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>
    /// The batches of one epoch, made in the background a few ahead. Dispose each batch after use; leaving the
    /// loop early (break, exception) stops the background work. A bad image that was not cached surfaces here
    /// as <see cref="MaskLabInputException"/> when its batch is reached.
    /// </summary>
    public IEnumerable<Batch> Epoch(int epoch)
    {
        var order = Order(epoch);
        int batches = BatchCount;
        if (batches == 0) yield break;

        using var pipe = BatchPipe.Start(Options.Prefetch, stop => Built(order, batches, epoch, stop));
        while (pipe.Take(wait: true) is { } batch) yield return batch;
    }

    /// <summary>The epoch's batches, each built and transformed on the pipe's producer thread.</summary>
    IEnumerable<Batch> Built(int[] order, int batches, int epoch, CancellationToken stop)
    {
        for (int b = 0; b < batches; b++)
        {
            stop.ThrowIfCancellationRequested();
            var batch = Build(order, b, epoch);
            try { Options.Transform?.Invoke(batch, epoch, b); }
            catch
            {
                batch.Dispose();
                throw;
            }
            yield return batch;
        }
    }

    Tensor AuxRows(Func<Sample, float[]> aux, int[] sampleIndices)
    {
        var rows = sampleIndices.Select(i => aux(_samples[i])).ToArray();
        int width = rows[0].Length;
        var flat = new float[rows.Length * width];
        for (int i = 0; i < rows.Length; i++)
        {
            if (rows[i].Length != width) throw new InvalidOperationException("auxiliary target rows must all have one length");
            rows[i].CopyTo(flat, i * width);
        }
        return tensor(flat, new long[] { rows.Length, width }).DetachFromDisposeScope();
    }

    Batch Build(int[] order, int batchIndex, int epoch)
    {
        int size = Options.BatchSize;
        int start = batchIndex * size;
        int count = Math.Min(size, order.Length - start);
        int width = Options.Width, height = Options.Height, imageFloats = 3 * width * height;

        var sampleIndices = new int[count];
        var labels = new long[count];
        for (int i = 0; i < count; i++)
        {
            int position = order[start + i];
            sampleIndices[i] = _indices[position];
            labels[i] = _labels[position];
        }

        var normalization = Options.Input is null ? Options.Normalization : InputNormalization.LoaderPassThrough;
        var images = empty(new long[] { count, 3, height, width }, ScalarType.Float32).DetachFromDisposeScope();
        try
        {
            // A CPU tensor's bytes are its storage: the images are written in place, with no copy.
            var pixels = MemoryMarshal.Cast<byte, float>(images.bytes);
            for (int i = 0; i < count; i++)
            {
                int sampleIndex = sampleIndices[i];
                var rgb = _cache.Get(_samples[sampleIndex].Path);
                Augmentation.Apply(rgb.Span, _cache.Width, _cache.Height, pixels.Slice(i * imageFloats, imageFloats),
                    width, height, Options.Augment, normalization, Options.Seed, epoch, sampleIndex);
            }
            Options.Input?.ApplyInPlace(images);
            var labelTensor = tensor(labels, new long[] { count }).DetachFromDisposeScope();
            var batch = new Batch(images, labelTensor, sampleIndices);
            if (Options.AuxTargets is { } aux) batch.AuxTargets = AuxRows(aux, sampleIndices);
            return batch;
        }
        catch
        {
            images.Dispose();
            throw;
        }
    }
}
