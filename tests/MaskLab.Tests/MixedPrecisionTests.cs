using MaskLab.Losses;
using MaskLab.Models;
using MaskLab.Platform;
using MaskLab.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Tests;

/// <summary>bf16 mixed precision: correctness only (speed is measured by bench, not asserted).</summary>
public class MixedPrecisionTests
{
    public MixedPrecisionTests() => NativeSetup.Initialize();

    static readonly ModelSpec Spec = new(18, 32, 32);

    static IOutputHead Head() => OutputHeads.Create(18, LossRegistry.Create("cross_entropy", new LossOptions(18)));

    /// <summary>Trains resnet18 (BatchNorm included) on one fixed batch; returns the first and last losses.</summary>
    static (float First, float Last) Memorise(Precision precision, Action<nn.Module<Tensor, Tensor>, ITrainStep>? inspect = null)
    {
        torch.manual_seed(3);
        using var model = ModelRegistry.Create("resnet18", Spec);
        using var opt = optim.AdamW(model.parameters(), 3e-3);
        // A private generator: tests in other classes run in parallel and draw from the global one.
        using var x = randn(8, 3, 32, 32, generator: new Generator(4));
        using var y = arange(8, dtype: ScalarType.Int64);
        using var step = TrainSteps.Create(precision, model, () => ModelRegistry.Create("resnet18", Spec), opt, Head());
        step.BeginEpoch();
        float first = step.Run(x, y), last = first;
        for (int i = 0; i < 14; i++) last = step.Run(x, y);
        inspect?.Invoke(model, step);
        return (first, last);
    }

    [Fact]
    public void Bf16TrainingReducesTheLossLikeFp32()
    {
        var fp32 = Memorise(Precision.Fp32);
        var bf16 = Memorise(Precision.Bf16);
        var values = $"fp32 {fp32.First:F3} -> {fp32.Last:F3}; bf16 {bf16.First:F3} -> {bf16.Last:F3}";
        Assert.True(fp32.Last < 0.3 * fp32.First, values);
        Assert.True(bf16.Last < 0.3 * bf16.First, values);
        Assert.True(Math.Abs(bf16.Last - fp32.Last) < 0.5 * fp32.First, values);
    }

    [Fact]
    public void MasterWeightsAndOptimiserStayFp32WhileTheCopyComputesInBf16()
    {
        Memorise(Precision.Bf16, (model, step) =>
        {
            Assert.All(model.named_parameters(), p => Assert.Equal(ScalarType.Float32, p.parameter.dtype));
            Assert.All(model.named_parameters(), p => Assert.Equal(ScalarType.Float32, p.parameter.grad!.dtype));
            var work = ((Bf16TrainStep)step).Working;
            Assert.Equal(ScalarType.BFloat16, work.named_parameters().First(p => p.name == "conv1.weight").parameter.dtype);
            Assert.Equal(ScalarType.Float32, work.named_parameters().First(p => p.name == "bn1.weight").parameter.dtype);
            // The copy follows the master: equal up to bf16 rounding.
            var m = model.named_parameters().First(p => p.name == "conv1.weight").parameter;
            var w = work.named_parameters().First(p => p.name == "conv1.weight").parameter.to_type(ScalarType.Float32);
            Assert.True(m.allclose(w, rtol: 1e-2, atol: 1e-3));
            // Batch statistics gathered by the copy reach the master (a fresh BatchNorm holds zeros).
            var mean = model.named_buffers().First(b => b.name == "bn1.running_mean").buffer;
            Assert.True(mean.abs().max().item<float>() > 1e-4);
            Assert.True(mean.allclose(work.named_buffers().First(b => b.name == "bn1.running_mean").buffer));
        });
    }

    [Fact]
    public void CheckpointWrittenUnderBf16LoadsUnderFp32WithCloseOutputs()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("masklab-bf16-").FullName, "best.ckpt");
        using var x = randn(4, 3, 32, 32, generator: new Generator(9));
        Tensor? reference = null;
        Memorise(Precision.Bf16, (model, step) =>
        {
            Checkpoint.Save(path, model, null, new TrainingState(1, 0.1, 1, 0, 1, 8, Checkpoint.RngState()));
            var work = ((Bf16TrainStep)step).Working;
            work.eval();
            using (no_grad()) reference = work.call(x.to_type(ScalarType.BFloat16)).to_type(ScalarType.Float32);
        });

        torch.manual_seed(11);
        using var fresh = ModelRegistry.Create("resnet18", Spec);
        Checkpoint.Load(path, fresh);
        Assert.All(fresh.named_parameters(), p => Assert.Equal(ScalarType.Float32, p.parameter.dtype));
        fresh.eval();
        using var _ = no_grad();
        using var outputs = fresh.call(x);
        // Logits of the bf16 copy and of the fp32 reload differ by bf16 rounding only.
        double scale = outputs.abs().max().item<float>();
        double diff = (outputs - reference!).abs().max().item<float>();
        Assert.True(diff < 0.1 * scale + 0.05, $"max diff {diff}, logit scale {scale}");
        double agree = outputs.argmax(1).eq(reference!.argmax(1)).to_type(ScalarType.Float32).mean().item<float>();
        Assert.True(agree >= 0.75, $"argmax agreement {agree}");
    }
}
