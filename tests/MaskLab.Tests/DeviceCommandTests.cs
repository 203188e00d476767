using System.Text.Json.Nodes;

namespace MaskLab.Tests;

[Collection(CliConsoleCollection.Name)]
public sealed class DeviceCommandTests
{
    [Fact]
    public void AutoOnThisBuildIsTheCpuOnTheBundledLibtorch()
    {
        var r = CliHarness.Run("device", "--json");
        Assert.Equal(0, r.ExitCode);
        var o = JsonNode.Parse(r.LastStdoutLine)!.AsObject();
        Assert.Equal("cpu", o["device"]!.GetValue<string>());
        Assert.Equal("auto: no CUDA libtorch loaded", o["reason"]!.GetValue<string>());
        Assert.Equal("bundled", o["libtorch_source"]!.GetValue<string>());
        Assert.Equal("2.10.0", o["libtorch_version"]!.GetValue<string>());
        Assert.True(o["check"]!.GetValue<bool>());
        Assert.EndsWith("/libtorch_cpu.so", o["libtorch_cpu_loaded"]!.GetValue<string>());
        Assert.Null(o["libtorch_cuda_loaded"]);
    }

    [Fact]
    public void CudaOnThisBuildExitsTwoWithOneLineSayingWhy()
    {
        var r = CliHarness.Run("device", "--device", "cuda");
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.StartsWith("masklab: error: device 'cuda': no CUDA libtorch loaded (bundled libtorch 2.10.0 (CPU build))", line);
    }

    [Fact]
    public void ABadDeviceValueExitsTwo()
    {
        var r = CliHarness.Run("device", "--device", "tpu");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("device 'tpu': expected auto, cpu, cuda or cuda:N", r.Stderr);
    }
}
