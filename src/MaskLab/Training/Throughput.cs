using System.Diagnostics;
using MaskLab.Data;
using MaskLab.Losses;
using MaskLab.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Training;

/// <summary>Measured training and inference speed of one model at one size.</summary>
public sealed record ThroughputResult(
    string Model, string ImageSize, int Batch, string Precision, int Threads, string Source,
    double TrainImagesPerSecond, double InferImagesPerSecond, double[] TrainStepSeconds, double[] InferStepSeconds);

/// <summary>
/// Times training steps (forward, loss, backward, AdamW step) and inference steps, after warm-up steps, and
/// reports the median. Random tensors measure compute alone; a loader measures compute plus what the
/// loader fails to hide.
/// </summary>
public static class Throughput
{
    public static ThroughputResult Measure(string modelName, ImageSize size, int batch, int steps, int warmup,
        BatchLoader? loader = null, IProgress<int>? progress = null)
    {
        torch.manual_seed(0);
        using var model = ModelRegistry.Create(modelName, new ModelSpec(TaskClasses.Count, size.Width, size.Height));
        var loss = LossRegistry.Create("cross_entropy", new LossOptions(TaskClasses.Count));
        using var opt = optim.AdamW(model.parameters(), 1e-4);
        using var x = randn(batch, 3, size.Height, size.Width);
        using var y = randint(0, TaskClasses.Count, [batch], dtype: ScalarType.Int64);

        var train = new List<double>();
        model.train();
        IEnumerator<Batch>? batches = null;
        int epoch = 0;
        try
        {
            for (int i = 0; i < warmup + steps; i++)
            {
                var clock = Stopwatch.StartNew();
                Batch? b = null;
                if (loader is not null)
                {
                    if (batches is null || !batches.MoveNext())
                    {
                        batches?.Dispose();
                        batches = loader.Epoch(epoch++).GetEnumerator();
                        if (!batches.MoveNext()) throw new InvalidOperationException("the loader yields no batch");
                    }
                    b = batches.Current;
                }
                using (var scope = NewDisposeScope())
                {
                    opt.zero_grad();
                    var l = loss(model.call(b?.Images ?? x), b?.Labels ?? y);
                    l.backward();
                    opt.step();
                }
                b?.Dispose();
                if (i >= warmup) train.Add(clock.Elapsed.TotalSeconds);
                progress?.Report(i + 1);
            }
        }
        finally { batches?.Dispose(); }

        var infer = new List<double>();
        model.eval();
        using (no_grad())
        {
            for (int i = 0; i < warmup + steps; i++)
            {
                var clock = Stopwatch.StartNew();
                using (var scope = NewDisposeScope()) model.call(x);
                if (i >= warmup) infer.Add(clock.Elapsed.TotalSeconds);
                progress?.Report(warmup + steps + i + 1);
            }
        }
        return new ThroughputResult(modelName, size.ToString(), batch, "fp32", torch.get_num_threads(),
            loader is null ? "random tensors" : "pipeline", batch / Median(train), batch / Median(infer),
            train.ToArray(), infer.ToArray());
    }

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n == 0 ? double.NaN : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
