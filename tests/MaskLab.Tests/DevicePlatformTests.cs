using MaskLab.Platform;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Tests;

public sealed class DeviceChoiceTests
{
    [Theory]
    [InlineData("auto", DeviceTarget.Auto, null, "auto")]
    [InlineData("cpu", DeviceTarget.Cpu, null, "cpu")]
    [InlineData(" CUDA ", DeviceTarget.Cuda, null, "cuda")]
    [InlineData("cuda:0", DeviceTarget.Cuda, 0, "cuda:0")]
    [InlineData("cuda:3", DeviceTarget.Cuda, 3, "cuda:3")]
    public void ParsesEachForm(string text, DeviceTarget kind, int? index, string written)
    {
        var choice = DeviceChoice.Parse(text);
        Assert.Equal(kind, choice.Kind);
        Assert.Equal(index, choice.Index);
        Assert.Equal(written, choice.ToString());
        Assert.Equal(choice, DeviceChoice.Parse(choice.ToString()));
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    [InlineData("")]
    [InlineData(null)]
    public void RejectsOthersInOneLine(string? text)
    {
        var e = Assert.Throws<MaskLabInputException>(() => DeviceChoice.Parse(text));
        Assert.Contains("expected auto, cpu, cuda or cuda:N", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}

public sealed class DeviceResolutionTests
{
    const string Lib = "bundled libtorch 2.10.0 (CPU build)";
    static readonly CudaFacts CpuBuild = new(false, false, 0);
    static readonly CudaFacts NoGpu = new(true, false, 0);
    static readonly CudaFacts TwoGpus = new(true, true, 2);

    [Fact]
    public void AutoTakesTheGpuOnlyWhenOneIsVisible()
    {
        Assert.Equal((DeviceType.CUDA, 0), Pick(DeviceResolution.Decide(DeviceChoice.Auto, TwoGpus, Lib)));
        var (type, _, reason) = DeviceResolution.Decide(DeviceChoice.Auto, CpuBuild, Lib);
        Assert.Equal(DeviceType.CPU, type);
        Assert.Equal("auto: no CUDA libtorch loaded", reason);
        (type, _, reason) = DeviceResolution.Decide(DeviceChoice.Auto, NoGpu, Lib);
        Assert.Equal(DeviceType.CPU, type);
        Assert.StartsWith("auto: no GPU visible", reason);
    }

    [Fact]
    public void CpuIsAlwaysTheCpu() =>
        Assert.Equal((DeviceType.CPU, -1), Pick(DeviceResolution.Decide(DeviceChoice.Cpu, TwoGpus, Lib)));

    [Fact]
    public void CudaIndexPicksTheGpu()
    {
        Assert.Equal((DeviceType.CUDA, 0), Pick(DeviceResolution.Decide(DeviceChoice.Cuda(), TwoGpus, Lib)));
        Assert.Equal((DeviceType.CUDA, 1), Pick(DeviceResolution.Decide(DeviceChoice.Cuda(1), TwoGpus, Lib)));
    }

    [Fact]
    public void CudaThatCannotBeHadSaysWhyInOneLine()
    {
        var noLib = Assert.Throws<MaskLabInputException>(() => DeviceResolution.Decide(DeviceChoice.Cuda(), CpuBuild, Lib));
        Assert.StartsWith("device 'cuda': no CUDA libtorch loaded (bundled libtorch 2.10.0 (CPU build))", noLib.Message);
        var noGpu = Assert.Throws<MaskLabInputException>(() => DeviceResolution.Decide(DeviceChoice.Cuda(0), NoGpu, Lib));
        Assert.StartsWith("device 'cuda:0': no GPU visible to the CUDA libtorch", noGpu.Message);
        var range = Assert.Throws<MaskLabInputException>(() => DeviceResolution.Decide(DeviceChoice.Cuda(2), TwoGpus, Lib));
        Assert.Equal("device 'cuda:2': index out of range, 2 GPUs visible (cuda:0..cuda:1)", range.Message);
        var one = Assert.Throws<MaskLabInputException>(() => DeviceResolution.Decide(DeviceChoice.Cuda(1), new CudaFacts(true, true, 1), Lib));
        Assert.Equal("device 'cuda:1': index out of range, 1 GPU visible (cuda:0)", one.Message);
        foreach (var e in new[] { noLib, noGpu, range, one }) Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void AutoResolvesOnTheLoadedLibtorchAndRecordsIt()
    {
        var resolved = DeviceResolution.Resolve(DeviceChoice.Auto);
        var loaded = LibTorchRuntime.Loaded!;
        bool gpu = CudaAvailability.Reason is null;
        Assert.Equal(gpu, resolved.IsCuda);
        Assert.Equal(gpu ? "cuda:0" : "cpu", resolved.Info.Device);
        Assert.Equal(loaded.SourceName, resolved.Info.LibTorchSource);
        Assert.Equal(loaded.Folder.Path, resolved.Info.LibTorchFolder);
        Assert.Equal(loaded.Version, resolved.Info.LibTorchVersion);
        if (!gpu) Assert.Null(resolved.Info.Name);
        var json = resolved.Info.ToJson();
        Assert.Equal("0.107.0", json["torchsharp_version"]!.GetValue<string>());
        Assert.Equal(resolved.Info.Device, json["device"]!.GetValue<string>());
        Assert.Contains($"libtorch {loaded.Version} ", resolved.Info.Describe());
    }

    [Theory]
    [InlineData("NVIDIA H200, 570.124.06, 143771\n", "NVIDIA H200", "570.124.06", 143771L)]
    [InlineData("Tesla V100-SXM2-16GB, 535.54.03, 16384", "Tesla V100-SXM2-16GB", "535.54.03", 16384L)]
    [InlineData("Odd, Name, 550.1, [N/A]", "Odd, Name", "550.1", null)]
    public void ReadsNvidiaSmiCsv(string csv, string name, string driver, long? memory)
    {
        var gpu = NvidiaSmi.Parse(csv)!;
        Assert.Equal(name, gpu.Name);
        Assert.Equal(driver, gpu.Driver);
        Assert.Equal(memory, gpu.MemoryMiB);
    }

    [Fact]
    public void NvidiaSmiOutputWithoutFieldsIsNoGpu()
    {
        Assert.Null(NvidiaSmi.Parse(""));
        Assert.Null(NvidiaSmi.Parse("No devices were found"));
    }

    static (DeviceType, int) Pick((DeviceType Type, int Index, string Reason) d) => (d.Type, d.Index);
}
