using System.Globalization;
using System.Runtime.InteropServices;
using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Models;
using MaskLab.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Training;

/// <summary>
/// What a run will hold in memory, worked out before any photo is decoded, so that a size the machine cannot hold is
/// refused in a second instead of after minutes of decoding and a swap storm: the photo cache (kept within its
/// budget, half the memory: photos past it are decoded again from the disk each time they are used), one training
/// step, the decoding threads' buffers and the runtime itself.
/// </summary>
/// <remarks>
/// The step is measured, not guessed: the model is built and run once (batch 2, with gradients) at the input size, or,
/// past <see cref="MeasuredPixels"/>, at two smaller sizes of the same shape, and the bytes of every layer's output
/// are summed (what autograd keeps for the backward pass) and grown to the real size by the growth seen between the
/// two. Weights count four times (weights, gradients, two optimiser moments). Libtorch's own working buffers are
/// not counted, so the figure is a floor: a run estimated near the machine's memory may still not fit.
/// </remarks>
public sealed record MemoryEstimate(
    long CacheNeededBytes, long CacheBudgetBytes, long StepBytes, long DecodeBytes, long MachineBytes, int Batch, int Photos)
{
    /// <summary>The runtime, libtorch and the rest of the process before any photo or tensor.</summary>
    public const long RuntimeBytes = 400L << 20;

    /// <summary>Inputs up to this many pixels are measured at their own size.</summary>
    public const long MeasuredPixels = 160L * 160;

    public long CacheBytes => Math.Min(CacheNeededBytes, CacheBudgetBytes);

    public long TotalBytes => CacheBytes + StepBytes + DecodeBytes + RuntimeBytes;

    public bool Fits => TotalBytes <= MachineBytes;

    /// <summary>More photos than the cache's budget holds: the rest are decoded again each time they are used.</summary>
    public bool CacheSpills => CacheNeededBytes > CacheBudgetBytes;

    /// <summary>The estimate for <paramref name="config"/> with <paramref name="photos"/> photos to decode (train, validation and eval).</summary>
    public static MemoryEstimate For(RunConfig config, int photos, int trainPhotos, int classes = TaskClasses.Count, long? machineBytes = null)
    {
        var size = config.ImageSize;
        long perPhoto = (long)size.Width * size.Height * 3;
        long machine = machineBytes ?? MachineMemory();
        int batch = Math.Max(1, Math.Min(config.BatchSize, Math.Max(trainPhotos, 1)));
        long step = StepMemory(config, classes, batch);
        // Each decoding thread holds a source photo (up to the task's 384x512 RGBA), a resized RGBA copy and the RGB result.
        long decode = Environment.ProcessorCount * (384L * 512 * 4 + perPhoto / 3 * 4 + perPhoto);
        return new MemoryEstimate(perPhoto * photos, machine / 2, step, decode, machine, batch, photos);
    }

    /// <summary>
    /// The check a run makes once its photos are listed and before any is decoded: refuses what cannot fit and warns
    /// when the cache cannot hold every photo. <paramref name="labelled"/> and <paramref name="eval"/> are the photo counts.
    /// </summary>
    public static MemoryEstimate Check(RunConfig config, int labelled, int eval, ITrainingObserver? observer = null)
    {
        double trainShare = config.Folds > 1 ? (config.Folds - 1.0) / config.Folds : 1 - config.ValRatio;
        var estimate = For(config, labelled + eval, (int)Math.Ceiling(labelled * trainShare)).ThrowIfTooLarge(config);
        observer?.Stage($"memory: at least {Gb(estimate.TotalBytes)} of {Gb(estimate.MachineBytes)} (photo cache {Gb(estimate.CacheBytes)}, training step {Gb(estimate.StepBytes)})");
        if (estimate.SpillNote() is { } note) observer?.Warning(note);
        return estimate;
    }

    /// <summary>Memory the process may use: the machine's, or the container's limit where lower.</summary>
    public static long MachineMemory() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>Refuses a run that cannot fit, naming the figures; returns the estimate otherwise.</summary>
    public MemoryEstimate ThrowIfTooLarge(RunConfig config)
    {
        if (Fits) return this;
        throw new MaskLabInputException(
            $"image_size {config.ImageSize} with batch_size {Batch} needs at least {Gb(TotalBytes)}: a training step of {config.Model} {Gb(StepBytes)}, " +
            $"the photo cache {Gb(CacheBytes)}{(CacheSpills ? $" (of {Gb(CacheNeededBytes)} for {Photos:N0} photos; the rest would be decoded again on each use)" : $" ({Photos:N0} photos)")}, " +
            $"decoding {Gb(DecodeBytes)}, the runtime {Gb(RuntimeBytes)}; this machine has {Gb(MachineBytes)}. Lower image_size or batch_size");
    }

    /// <summary>One line for a cache that cannot hold every photo, or null when it can.</summary>
    public string? SpillNote() => CacheSpills
        ? $"the {Photos:N0} photos need {Gb(CacheNeededBytes)} decoded, more than the cache's {Gb(CacheBudgetBytes)} (half the memory): " +
          $"about {(CacheNeededBytes - CacheBudgetBytes) / Math.Max(1, CacheNeededBytes / Math.Max(Photos, 1)):N0} of them are decoded again from the disk on each use (slower, same results)"
        : null;

    public static string Gb(long bytes) => (bytes / 1e9).ToString(bytes < 10e9 ? "F2" : "F1", CultureInfo.InvariantCulture) + " GB";

    /// <summary>
    /// Bytes of one training step: the batch's layer outputs (measured, see the remarks), the input batch and its
    /// augmented copy, and the weights with their gradients and optimiser state (plus a bf16 copy for mixed precision).
    /// </summary>
    public static long StepMemory(RunConfig config, int classes, int batch)
    {
        var size = config.ImageSize;
        var (perImage, parameters) = ActivationsPerImage(config.Model, classes, size);
        double activationScale = config.Precision == Precision.Bf16 ? 0.5 : 1.0;
        long input = 2L * batch * 3 * size.Width * size.Height * 4;
        long weights = parameters * 4 * 4 + (config.Precision is Precision.Bf16 or Precision.Auto ? parameters * 2 * 2 : 0);
        return (long)Math.Min(long.MaxValue / 4, perImage * batch * activationScale) + input + weights;
    }

    /// <summary>Bytes of layer outputs for one image at <paramref name="size"/>, and the parameter count.</summary>
    /// <exception cref="MaskLabInputException">The model cannot take an input of this size.</exception>
    public static (double Bytes, long Parameters) ActivationsPerImage(string model, int classes, ImageSize size)
    {
        long pixels = (long)size.Width * size.Height;
        if (pixels <= MeasuredPixels)
        {
            var (bytes, parameters) = Measure(model, classes, size, exact: true);
            return (bytes, parameters);
        }
        // Two sizes of the input's shape, the second with four times the pixels; each side at least 32.
        var small = Scaled(size, MeasuredPixels / 4.0);
        var large = Scaled(size, MeasuredPixels);
        var (b1, p) = Measure(model, classes, small, exact: false);
        var (b2, _) = Measure(model, classes, large, exact: false);
        double p1 = (double)small.Width * small.Height, p2 = (double)large.Width * large.Height;
        // Convolutions grow with the pixels, attention with their square: keep the growth between those.
        double growth = b1 > 0 && b2 > b1 && p2 > p1 ? Math.Clamp(Math.Log(b2 / b1) / Math.Log(p2 / p1), 1, 2) : 1;
        return (b2 * Math.Pow(pixels / p2, growth), p);
    }

    static ImageSize Scaled(ImageSize size, double pixels)
    {
        double f = Math.Sqrt(pixels / ((double)size.Width * size.Height));
        return new ImageSize(Math.Clamp((int)Math.Round(size.Width * f), 32, size.Width), Math.Clamp((int)Math.Round(size.Height * f), 32, size.Height));
    }

    static (double Bytes, long Parameters) Measure(string model, int classes, ImageSize size, bool exact)
    {
        using var scope = NewDisposeScope();
        using var net = ModelRegistry.Create(model, new ModelSpec(classes, size.Width, size.Height));
        long parameters = ModelStats.Parameters(net);
        double bytes = 0;
        var removers = new List<Action>();
        foreach (var (_, module) in net.named_modules())
        {
            if (module is not nn.Module<Tensor, Tensor> m || module.children().Any()) continue;
            var handle = m.register_forward_hook((_, _, output) =>
            {
                bytes += output.numel() * output.ElementSize;
                return null!;
            });
            removers.Add(handle.remove);
        }
        net.train();
        using var noGrad = no_grad();
        try
        {
            // Two images: batch statistics need more than one, and every count here is linear in the batch.
            net.call(zeros([2, 3, size.Height, size.Width]));
        }
        catch (Exception e) when (e is ExternalException or ArgumentException or InvalidOperationException)
        {
            if (!exact) return (0, parameters);
            throw new MaskLabInputException($"model {model} cannot take image_size {size}: {FirstLine(e.Message)}");
        }
        finally
        {
            foreach (var remove in removers) remove();
        }
        return (bytes / 2, parameters);
    }

    static string FirstLine(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        return line.Length > 200 ? line[..200] + "..." : line;
    }
}
