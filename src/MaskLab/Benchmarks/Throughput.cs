using System.Diagnostics;
using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Losses;
using MaskLab.Models;
using MaskLab.Platform;
using MaskLab.Runs;
using MaskLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Benchmarks;

/// <summary>Measured training and inference speed of one model at one size.</summary>
public sealed record ThroughputResult(
    string Model, string ImageSize, int Batch, string Precision, int Threads, string Source,
    double TrainImagesPerSecond, double InferImagesPerSecond, double[] TrainStepSeconds, double[] InferStepSeconds)
{
    /// <summary>Median seconds per phase of the timed training steps; empty unless profiled.</summary>
    public IReadOnlyList<(string Phase, double MedianSeconds)> Phases { get; init; } = [];

    /// <summary>.NET garbage-collection pause per timed training step, in seconds (the collector stops the step's thread).</summary>
    public double GcPauseSecondsPerStep { get; init; }

    /// <summary>Garbage collections (any generation) during the timed training steps.</summary>
    public int GcCollections { get; init; }

    /// <summary>Multiply-accumulates of one image's forward pass (<see cref="ModelStats.ForwardMacs"/>); 0 unless profiled.</summary>
    public long ForwardMacs { get; init; }
}

/// <summary>
/// Times training steps (forward, loss, backward, AdamW step, in the given precision) and inference steps, after warm-up steps, and
/// reports the median. Random tensors measure compute alone; a loader measures compute plus what the
/// loader fails to hide.
/// </summary>
public static class Throughput
{
    public static ThroughputResult Measure(string modelName, ImageSize size, int batch, int steps, int warmup,
        BatchLoader? loader = null, IProgress<int>? progress = null, Precision precision = Precision.Fp32, bool profile = false, Device? device = null, bool channelsLast = false)
    {
        torch.manual_seed(0);
        var spec = new ModelSpec(TaskClasses.Count, size.Width, size.Height);
        device ??= CPU;
        using var model = ModelRegistry.Create(modelName, spec);
        model.to(device);
        var head = OutputHeads.Create(TaskClasses.Count, LossRegistry.Create("cross_entropy", new LossOptions(TaskClasses.Count)));
        using var opt = optim.AdamW(model.parameters(), 1e-4);
        using var step = TrainSteps.Create(precision, model, () => ModelRegistry.Create(modelName, spec), opt, head);
        using var random = randn(batch, 3, size.Height, size.Width).to(device);
        using var x = channelsLast ? ChannelsLast.Of(random) : random.alias();
        using var y = randint(0, TaskClasses.Count, [batch], dtype: ScalarType.Int64).to(device);

        var train = new List<double>();
        var phases = profile ? new StepPhases() : null;
        var loaderWait = new List<double>();
        step.Phases = phases;
        TimeSpan gcPause = default;
        int gcCount = 0;
        step.BeginEpoch();
        IEnumerator<Batch>? batches = null;
        int epoch = 0;
        try
        {
            for (int i = 0; i < warmup + steps; i++)
            {
                if (i == warmup)
                {
                    phases?.Clear();
                    gcPause = GC.GetTotalPauseDuration();
                    gcCount = GC.CollectionCount(0);
                }
                var clock = Stopwatch.StartNew();
                Batch? b = null;
                if (loader is not null)
                {
                    if (batches is null || !batches.MoveNext())
                    {
                        batches?.Dispose();
                        batches = DevicePrefetcher.ToDevice(loader.Epoch(epoch++), device).GetEnumerator();
                        if (!batches.MoveNext()) throw new InvalidOperationException("the loader yields no batch");
                    }
                    b = batches.Current;
                    if (i >= warmup) loaderWait.Add(clock.Elapsed.TotalSeconds);
                }
                using (var images = b is null ? x.alias() : channelsLast ? ChannelsLast.Of(b.Images) : b.Images.alias())
                    step.Run(images, b?.Labels ?? y);
                b?.Dispose();
                if (i >= warmup) train.Add(clock.Elapsed.TotalSeconds);
                progress?.Report(i + 1);
            }
        }
        finally { batches?.Dispose(); }
        gcPause = GC.GetTotalPauseDuration() - gcPause;
        gcCount = GC.CollectionCount(0) - gcCount;

        var infer = new List<double>();
        // bf16 inference times the working copy the training step ran on, fed bf16 images.
        var inferModel = step.Compute;
        using var input = precision switch
        {
            Precision.Bf16 => x.to_type(ScalarType.BFloat16),
            Precision.Fp16 => x.to_type(ScalarType.Float16),
            _ => x.alias(),
        };
        inferModel.eval();
        using (no_grad())
        {
            for (int i = 0; i < warmup + steps; i++)
            {
                var clock = Stopwatch.StartNew();
                using (var scope = NewDisposeScope()) inferModel.call(input);
                // A GPU runs the forward after the call returns: wait for it, or the clock times the launch alone.
                if (device.type == DeviceType.CUDA) torch.cuda.synchronize(device);
                if (i >= warmup) infer.Add(clock.Elapsed.TotalSeconds);
                progress?.Report(warmup + steps + i + 1);
            }
        }
        return new ThroughputResult(modelName, size.ToString(), batch, ConfigValues.EnumText(precision), torch.get_num_threads(),
            loader is null ? "random tensors" : "pipeline", batch / Median(train), batch / Median(infer),
            train.ToArray(), infer.ToArray())
        {
            Phases = phases is null ? [] : loader is null ? phases.Medians() : [("loader wait", Median(loaderWait)), .. phases.Medians()],
            GcPauseSecondsPerStep = gcPause.TotalSeconds / steps,
            GcCollections = gcCount,
            // Counted on the timed model after timing: the hooks' forward pass must not run inside a timed step.
            ForwardMacs = profile ? ModelStats.ForwardMacs(model, size.Width, size.Height) : 0,
        };
    }

    /// <summary>
    /// The machine's matrix-product ceiling through libtorch: GFLOP/s (2 n³ per product) of an n x n by n x n
    /// product in <paramref name="dtype"/>, the median of <paramref name="reps"/> after two warm-ups. Training
    /// reaches a fraction of it: convolutions and attention are matrix products with less reuse, and the
    /// normalisation, activation and optimiser work has none.
    /// </summary>
    public static double MatmulGflops(ScalarType dtype, int n = 2048, int reps = 8)
    {
        using var scope = NewDisposeScope();
        var a = randn(n, n).to_type(dtype);
        var b = randn(n, n).to_type(dtype);
        var times = new List<double>();
        for (int i = 0; i < reps + 2; i++)
        {
            var clock = Stopwatch.StartNew();
            using (var c = a.matmul(b)) { }
            if (i >= 2) times.Add(clock.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / Median(times) / 1e9;
    }

    /// <summary>FLOPs of one training image: forward plus a backward of about twice the forward, 2 FLOPs a multiply-accumulate.</summary>
    public static double TrainFlopsPerImage(long forwardMacs) => 3.0 * 2.0 * forwardMacs;

    public static double Median(IReadOnlyList<double> values) => Statistics.Median(values);
}
