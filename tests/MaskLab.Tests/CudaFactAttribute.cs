using MaskLab.Platform;

namespace MaskLab.Tests;

/// <summary>
/// A test that needs a CUDA GPU. Where none is usable it is skipped with the reason in the test output
/// ("no CUDA libtorch loaded (bundled libtorch 2.10.0 (CPU build))", "no GPU visible ..."), since xunit 2 has no
/// skip decided inside a running test. Put such tests in a class with <c>[Trait("Category", "Cuda")]</c>, the
/// category the GPU kit runs.
/// </summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (CudaAvailability.Reason is { } why) Skip = why;
    }
}

/// <summary>Why CUDA tests cannot run in this process, or null when they can; decided once.</summary>
public static class CudaAvailability
{
    static readonly Lazy<string?> Why = new(() =>
    {
        try
        {
            var libtorch = LibTorchRuntime.Load();
            var facts = DeviceResolution.Facts(libtorch);
            if (!facts.CudaLibTorch) return $"needs a GPU: no CUDA libtorch loaded ({libtorch.Describe()})";
            if (!facts.Available || facts.DeviceCount == 0) return $"needs a GPU: none visible to the CUDA libtorch ({libtorch.Describe()})";
            return null;
        }
        catch (MaskLabInputException e)
        {
            return $"needs a GPU: {e.Message}";
        }
    });

    public static string? Reason => Why.Value;
}
