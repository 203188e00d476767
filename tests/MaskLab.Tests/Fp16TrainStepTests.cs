using MaskLab.Losses;
using MaskLab.Models;
using MaskLab.Platform;
using MaskLab.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Tests;

/// <summary>
/// fp16 with dynamic loss scaling, on the CPU: libtorch 2.10's CPU kernels take fp16 convolutions, matrix products
/// and fp16 activations into fp32 BatchNorm, so the step's logic is tested here on a tiny model; its speed is a
/// GPU matter.
/// </summary>
public sealed class Fp16TrainStepTests
{
    public Fp16TrainStepTests() => NativeSetup.Initialize();

    static IOutputHead Head() => OutputHeads.Create(5, LossRegistry.Create("cross_entropy", new LossOptions(5)));

    static nn.Module<Tensor, Tensor> Tiny(long seed) => TinyModels.ConvBnLinear(seed);

    static (Tensor X, Tensor Y) Batch()
    {
        var gen = new Generator(11);
        return (randn([10, 3, 8, 8], generator: gen), tensor(new long[] { 0, 1, 2, 3, 4, 0, 1, 2, 3, 4 }));
    }

    static float[] Weights(nn.Module model, string name) =>
        model.named_parameters().First(p => p.name == name).parameter.to_type(ScalarType.Float32).data<float>().ToArray();

    [Fact]
    public void AStepUpdatesFp32MastersCloseToAnFp32Step()
    {
        var (x, y) = Batch();
        using var reference = Tiny(1);
        using var sgd32 = optim.SGD(reference.parameters(), 0.1);
        using (var step32 = TestSteps.Create("fp32", reference, () => Tiny(9), sgd32, Head())) { step32.BeginEpoch(); step32.Run(x, y); }

        using var model = Tiny(1);
        using var sgd = optim.SGD(model.parameters(), 0.1);
        var before = Weights(model, "conv.weight");
        using var step = new Fp16TrainStep(model, () => Tiny(9), sgd, Head(), new DynamicLossScaler(new LossScalerOptions(InitScale: 256)));
        step.BeginEpoch();
        float loss = step.Run(x, y);

        Assert.True(float.IsFinite(loss));
        Assert.True(step.LastStepTaken);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        Assert.Equal(ScalarType.Float16, step.Working.named_parameters().First(p => p.name == "conv.weight").parameter.dtype);
        Assert.Equal(ScalarType.Float32, step.Working.named_parameters().First(p => p.name == "bn.weight").parameter.dtype);
        var after = Weights(model, "conv.weight");
        var expected = Weights(reference, "conv.weight");
        Assert.NotEqual(before, after);
        for (int i = 0; i < after.Length; i++)
            Assert.True(Math.Abs(after[i] - expected[i]) < 2e-3 + 1e-2 * Math.Abs(expected[i] - before[i]),
                $"conv.weight[{i}]: fp16 step {after[i]}, fp32 step {expected[i]}, before {before[i]}");
        // The working copy follows the master, rounded to fp16.
        Assert.Equal(model.named_parameters().First(p => p.name == "fc.weight").parameter.to_type(ScalarType.Float16).data<Half>().ToArray(),
            step.Working.named_parameters().First(p => p.name == "fc.weight").parameter.data<Half>().ToArray());
        // Batch statistics from the fp16 forward reach the master.
        Assert.True(model.named_buffers().First(b => b.name == "bn.running_mean").buffer.abs().max().item<float>() > 1e-4);
    }

    [Fact]
    public void OverflowingGradientsAreSkippedUntilTheScaleFits()
    {
        var (x, y) = Batch();
        using var model = Tiny(2);
        using var sgd = optim.SGD(model.parameters(), 0.1);
        double start = Math.Pow(2, 40);
        using var step = new Fp16TrainStep(model, () => Tiny(9), sgd, Head(), new DynamicLossScaler(new LossScalerOptions(InitScale: start)));
        step.BeginEpoch();
        var before = Weights(model, "fc.weight");

        // At 2^40 the gradient of the logits exceeds fp16's 65504: nothing moves, the scale halves.
        step.Run(x, y);
        Assert.False(step.LastStepTaken);
        Assert.Equal(before, Weights(model, "fc.weight"));
        Assert.Equal(start / 2, step.Scaler.Scale);

        int runs = 1;
        while (!step.LastStepTaken && runs < 40) { step.Run(x, y); runs++; }
        Assert.True(step.LastStepTaken, "no step was taken while the scale came down from 2^40");
        Assert.NotEqual(before, Weights(model, "fc.weight"));
        // Every skipped step halved the scale once; the step taken left it where it was.
        Assert.Equal(runs - 1, step.Scaler.SkippedSteps);
        Assert.Equal(start / Math.Pow(2, runs - 1), step.Scaler.Scale);
        Assert.True(runs > 10, $"only {runs - 1} steps were skipped; 2^40 should overflow fp16 by far");
    }

    static (float First, float Last) Train(string precision)
    {
        var (x, y) = Batch();
        using var model = Tiny(3);
        using var opt = optim.AdamW(model.parameters(), 1e-2);
        using var step = TestSteps.Create(precision, model, () => Tiny(9), opt, Head());
        step.BeginEpoch();
        float first = step.Run(x, y), last = first;
        for (int i = 0; i < 30; i++) last = step.Run(x, y);
        return (first, last);
    }

    [Fact]
    public void TrainingReducesTheLossLikeFp32()
    {
        var fp32 = Train("fp32");
        var fp16 = Train("fp16");
        var bf16 = Train("bf16");
        var values = $"fp32 {fp32.First:F3} -> {fp32.Last:F3}; fp16 {fp16.First:F3} -> {fp16.Last:F3}; bf16 {bf16.First:F3} -> {bf16.Last:F3}";
        Assert.True(fp32.Last < fp32.First - 0.2, values);
        Assert.True(Math.Abs(fp16.First - fp32.First) < 1e-2, values);
        Assert.True(fp16.First - fp16.Last > 0.8 * (fp32.First - fp32.Last), values);
        // bf16 through the same low-precision copy: coarser, but it learns too.
        Assert.True(bf16.First - bf16.Last > 0.5 * (fp32.First - fp32.Last), values);
    }
}

/// <summary>Small models whose weights come from a private generator, so that tests running in parallel (which
/// draw from torch's global one) cannot change them.</summary>
internal static class TinyModels
{
    /// <summary>conv -> BatchNorm -> ReLU -> pool -> linear: the layer kinds mixed precision treats differently.</summary>
    public static nn.Module<Tensor, Tensor> ConvBnLinear(long seed)
    {
        var model = nn.Sequential(
            ("conv", nn.Conv2d(3, 8, 3, padding: 1)), ("bn", nn.BatchNorm2d(8)), ("relu", nn.ReLU()),
            ("pool", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()), ("fc", nn.Linear(8, 5)));
        var gen = new Generator((ulong)seed);
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (!name.StartsWith("bn", StringComparison.Ordinal)) p.uniform_(-0.25, 0.25, gen);
        return model;
    }
}

/// <summary>
/// The train step for a precision written as in a config; fp16 is made here until the config's Precision has it.
/// </summary>
internal static class TestSteps
{
    public static ITrainStep Create(string precision, nn.Module<Tensor, Tensor> model, Func<nn.Module<Tensor, Tensor>> replica,
        OptimizerHelper optimizer, IOutputHead head) => precision switch
    {
        "fp16" => new Fp16TrainStep(model, replica, optimizer, head),
        "bf16" => TrainSteps.Create(Precision.Bf16, model, replica, optimizer, head),
        "fp32" => TrainSteps.Create(Precision.Fp32, model, replica, optimizer, head),
        _ => throw new ArgumentException($"no precision '{precision}'", nameof(precision)),
    };
}
