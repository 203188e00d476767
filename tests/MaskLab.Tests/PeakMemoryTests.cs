using MaskLab.Training;
using static TorchSharp.torch;

namespace MaskLab.Tests;

/// <summary>
/// A sweep trains many runs in one process: each run's peak memory must be its own. Runs alone (no other test
/// allocating beside it), since it reads the whole process's resident memory.
/// </summary>
[Collection(TorchRngCollection.Name)]
public class PeakMemoryTests
{
    [Fact]
    public void ResetForgetsTheMemoryOfAFinishedRun()
    {
        if (!File.Exists("/proc/self/clear_refs")) return; // Linux only, as on CI
        Assert.True(PeakMemory.Reset());
        double start = PeakMemory.Megabytes()!.Value;
        using (var big = ones(128, 1024, 1024)) // 512 MiB, every page written
            Assert.Equal(1f, big[127, 1023, 1023].item<float>());
        double high = PeakMemory.Megabytes()!.Value;
        Assert.True(high - start > 400, $"peak rose {high - start:F0} MiB for a 512 MiB tensor");

        Assert.True(PeakMemory.Reset());
        double after = PeakMemory.Megabytes()!.Value;
        Assert.True(high - after > 400, $"after the reset the peak is {after:F0} MiB, was {high:F0} MiB");
    }
}
