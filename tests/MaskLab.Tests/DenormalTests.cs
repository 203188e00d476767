using static TorchSharp.torch;

namespace MaskLab.Tests;

/// <summary>libtorch's set_flush_denormal, reached through its exported symbol since TorchSharp does not expose it.</summary>
public class DenormalTests
{
    [Fact]
    public void Flushing_turns_denormal_results_to_zero_on_the_thread_that_set_it()
    {
        NativeSetup.Initialize();
        TorchSharp.torch.InitializeDeviceType(TorchSharp.DeviceType.CPU);
        float flushed = float.NaN, kept = float.NaN;
        bool took = false;
        // MXCSR is per thread: a thread of its own leaves the test runner's threads as they were.
        var thread = new Thread(() =>
        {
            took = NativeSetup.SetFlushDenormal(true);
            using (var x = tensor(new[] { 1e-39f })) using (var y = x * 2) flushed = y.item<float>();
            NativeSetup.SetFlushDenormal(false);
            using (var x = tensor(new[] { 1e-39f })) using (var y = x * 2) kept = y.item<float>();
        });
        thread.Start();
        thread.Join();
        Assert.True(took, $"libtorch did not take the flush-denormal setting (libtorch_cpu: {LibTorchRuntime.LoadedLibrary("libtorch_cpu.so")}; flushed {flushed}, kept {kept})");
        Assert.Equal(0f, flushed);
        Assert.Equal(2e-39f, kept, 1e-44f);
    }
}
