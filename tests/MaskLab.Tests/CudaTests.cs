using MaskLab.Data.Loading;
using MaskLab.Losses;
using MaskLab.Models;
using MaskLab.Platform;
using MaskLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Tests;

/// <summary>
/// Checks that need a CUDA GPU: run by the GPU kit (scripts/gpu-run.sh), skipped with the reason elsewhere. Each
/// compares the GPU against the CPU on the same numbers, so a wrong device path fails rather than only runs.
/// </summary>
[Trait("Category", "Cuda")]
public sealed class CudaTests
{
    static readonly Device Gpu = new(DeviceType.CUDA, 0);

    public CudaTests()
    {
        NativeSetup.Initialize();
        // Exact fp32 on the GPU, so that CPU and GPU results can be compared closely.
        torch.backends.cuda.matmul.allow_tf32 = false;
        torch.backends.cudnn.allow_tf32 = false;
    }

    static IOutputHead Head() => OutputHeads.Create(5, LossRegistry.Create("cross_entropy", new LossOptions(5)));

    static nn.Module<Tensor, Tensor> Tiny(long seed) => TinyModels.ConvBnLinear(seed);

    static (Tensor X, Tensor Y) Batch() =>
        (randn([10, 3, 8, 8], generator: new Generator(11)), tensor(new long[] { 0, 1, 2, 3, 4, 0, 1, 2, 3, 4 }));

    static Dictionary<string, float[]> Snapshot(nn.Module model) =>
        model.state_dict().ToDictionary(p => p.Key, p => p.Value.to_type(ScalarType.Float32).cpu().data<float>().ToArray());

    static void AssertClose(Dictionary<string, float[]> expected, Dictionary<string, float[]> actual, float tolerance)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, e) in expected)
            for (int i = 0; i < e.Length; i++)
                Assert.True(Math.Abs(e[i] - actual[name][i]) <= tolerance * (1 + Math.Abs(e[i])),
                    $"{name}[{i}]: expected {e[i]}, got {actual[name][i]}");
    }

    [CudaFact]
    public void CudaResolvesToAVisibleGpuAndComputesLikeTheCpu()
    {
        var resolved = DeviceResolution.Resolve(DeviceChoice.Cuda());
        Assert.True(resolved.IsCuda);
        Assert.Equal("cuda:0", resolved.Info.Device);
        Assert.Equal(DeviceType.CUDA, DeviceResolution.Resolve(DeviceChoice.Auto).Device.type);
        var outOfRange = Assert.Throws<MaskLabInputException>(() => DeviceResolution.Resolve(DeviceChoice.Cuda(torch.cuda.device_count())));
        Assert.Contains("index out of range", outOfRange.Message);
        using var a = randn([64, 32], generator: new Generator(1));
        using var b = randn([32, 16], generator: new Generator(2));
        using var cpu = a.matmul(b);
        using var gpu = a.to(Gpu).matmul(b.to(Gpu)).cpu();
        Assert.True(cpu.allclose(gpu, rtol: 1e-4, atol: 1e-4));
    }

    [CudaFact]
    public void AnFp32StepOnTheGpuMatchesTheCpu()
    {
        var (x, y) = Batch();
        using var cpuModel = Tiny(1);
        using var gpuModel = Tiny(1);
        gpuModel.to(Gpu);
        using var cpuOpt = optim.SGD(cpuModel.parameters(), 0.1, momentum: 0.9);
        using var gpuOpt = optim.SGD(gpuModel.parameters(), 0.1, momentum: 0.9);
        using var cpuStep = TestSteps.Create("fp32", cpuModel, () => Tiny(9), cpuOpt, Head());
        using var gpuStep = TestSteps.Create("fp32", gpuModel, () => Tiny(9), gpuOpt, Head());
        cpuStep.BeginEpoch();
        gpuStep.BeginEpoch();
        using var gx = x.to(Gpu);
        using var gy = y.to(Gpu);
        for (int i = 0; i < 3; i++)
        {
            float lc = cpuStep.Run(x, y), lg = gpuStep.Run(gx, gy);
            Assert.True(Math.Abs(lc - lg) < 1e-4 * (1 + Math.Abs(lc)), $"step {i}: loss {lc} on the CPU, {lg} on the GPU");
        }
        Assert.Equal(DeviceType.CUDA, gpuModel.parameters().First().device.type);
        AssertClose(Snapshot(cpuModel), Snapshot(gpuModel), 1e-4f);
    }

    [CudaFact]
    public void MixedPrecisionStepsRunOnTheGpuWithFp32Masters()
    {
        foreach (var precision in new[] { "bf16", "fp16" })
        {
            var (x, y) = Batch();
            using var model = Tiny(3);
            model.to(Gpu);
            using var opt = optim.AdamW(model.parameters(), 1e-2);
            using var step = TestSteps.Create(precision, model, () => Tiny(9), opt, Head());
            step.BeginEpoch();
            using var gx = x.to(Gpu);
            using var gy = y.to(Gpu);
            float first = step.Run(gx, gy), last = first;
            for (int i = 0; i < 30; i++) last = step.Run(gx, gy);
            Assert.True(last < first - 0.2, $"{precision}: loss {first:F3} -> {last:F3}");
            Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
            Assert.All(model.parameters(), p => Assert.Equal(DeviceType.CUDA, p.device.type));
            var work = step is Fp16TrainStep f ? f.Working : ((Bf16TrainStep)step).Working;
            Assert.All(work.parameters(), p => Assert.Equal(DeviceType.CUDA, p.device.type));
            if (step is Fp16TrainStep fp16) Assert.True(fp16.Scaler.Scale <= 65536, $"scale {fp16.Scaler.Scale}");
        }
    }

    [CudaFact]
    public void TheLossScalerFindsOverflowOnTheGpu()
    {
        var scaler = new DynamicLossScaler(new LossScalerOptions(InitScale: 4));
        using var good = full(new long[] { 1000 }, 8f, device: Gpu);
        using var bad = tensor(new float[] { 1, float.PositiveInfinity }, device: Gpu);
        using (var found = scaler.Unscale([good])) Assert.False(found.cpu().item<bool>());
        Assert.Equal(2f, good[0].cpu().item<float>());
        using (var found = scaler.Unscale([good, bad])) Assert.True(found.cpu().item<bool>());
    }

    [CudaFact]
    public void ThePrefetcherPinsAndCopiesBatchesInOrder()
    {
        var made = new List<Batch>();
        IEnumerable<Batch> Source()
        {
            for (int i = 0; i < 5; i++)
            {
                var b = new Batch(full(new long[] { 4, 3, 8, 8 }, (float)i), tensor(new long[] { i, i, i, i }), [i]);
                made.Add(b);
                yield return b;
            }
        }
        int n = 0;
        foreach (var batch in DevicePrefetcher.ToDevice(Source(), Gpu))
        {
            using (batch)
            {
                Assert.Equal(DeviceType.CUDA, batch.Images.device.type);
                Assert.Equal(DeviceType.CUDA, batch.Labels.device.type);
                Assert.Equal((float)n, batch.Images.mean().cpu().item<float>());
                Assert.Equal((long)n, batch.Labels[0].cpu().item<long>());
            }
            n++;
        }
        Assert.Equal(5, n);
        Assert.All(made, b => Assert.True(b.Images.IsInvalid));
    }

    [CudaFact]
    public void CheckpointsMoveBetweenTheGpuAndTheCpu()
    {
        var dir = Directory.CreateTempSubdirectory("masklab-cuda-ckpt-").FullName;
        try
        {
            var (x, y) = Batch();
            using var gpuModel = Tiny(4);
            gpuModel.to(Gpu);
            using var gpuOpt = optim.AdamW(gpuModel.parameters(), 1e-2);
            using (var step = TestSteps.Create("fp32", gpuModel, () => Tiny(9), gpuOpt, Head()))
            {
                step.BeginEpoch();
                using var gx = x.to(Gpu);
                using var gy = y.to(Gpu);
                step.Run(gx, gy);
            }
            var state = new TrainingState(1, 0.5, 1, 0, 1, 10, Checkpoint.RngState());
            var fromGpu = Path.Combine(dir, "gpu.ckpt");
            Checkpoint.Save(fromGpu, gpuModel, gpuOpt, state);

            // GPU-trained, resumed on the CPU: same weights; one more step on each side stays close.
            using var cpuModel = Tiny(5);
            using var cpuOpt = optim.AdamW(cpuModel.parameters(), 1e-2);
            Checkpoint.Load(fromGpu, cpuModel, cpuOpt);
            AssertClose(Snapshot(gpuModel), Snapshot(cpuModel), 0);
            using (var cpuStep = TestSteps.Create("fp32", cpuModel, () => Tiny(9), cpuOpt, Head()))
            using (var gpuStep = TestSteps.Create("fp32", gpuModel, () => Tiny(9), gpuOpt, Head()))
            {
                cpuStep.BeginEpoch();
                gpuStep.BeginEpoch();
                using var gx = x.to(Gpu);
                using var gy = y.to(Gpu);
                cpuStep.Run(x, y);
                gpuStep.Run(gx, gy);
            }
            AssertClose(Snapshot(cpuModel), Snapshot(gpuModel), 1e-4f);

            // And back: a CPU checkpoint onto the GPU.
            var fromCpu = Path.Combine(dir, "cpu.ckpt");
            Checkpoint.Save(fromCpu, cpuModel, cpuOpt, state);
            using var back = Tiny(6);
            back.to(Gpu);
            using var backOpt = optim.AdamW(back.parameters(), 1e-2);
            Checkpoint.Load(fromCpu, back, backOpt);
            Assert.Equal(DeviceType.CUDA, back.parameters().First().device.type);
            AssertClose(Snapshot(cpuModel), Snapshot(back), 0);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
