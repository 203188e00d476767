using MaskLab.Data.Loading;
using MaskLab.Platform;
using MaskLab.Training;

namespace MaskLab.Tests;

/// <summary>The memory a run needs, worked out before decoding: refusal past the machine, the cache's budget, growth with size.</summary>
/// <remarks>Building the measured models draws from torch's global generator, which the tests of this collection share.</remarks>
[Collection(TorchRngCollection.Name)]
public sealed class MemoryEstimateTests
{
    public MemoryEstimateTests() => NativeSetup.Initialize();

    static RunConfig Config(string model, string size, int batch = 32) =>
        RunConfig.Load(null, [$"model={model}", $"image_size={size}", $"batch_size={batch}"]);

    const long Gb = 1_000_000_000;

    [Fact]
    public void TheTaskDefaultsFitAndAHugeSizeIsRefusedWithItsFigures()
    {
        var fits = MemoryEstimate.For(Config("resnet18", "96x128"), photos: 5600, trainPhotos: 3360, machineBytes: 16 * Gb);
        Assert.True(fits.Fits);
        Assert.False(fits.CacheSpills);
        Assert.Equal(5600L * 96 * 128 * 3, fits.CacheBytes);
        // resnet18's 11.2 M weights with gradients and two moments alone are 180 MB; its activations at 96x128 a few MB an image.
        Assert.InRange(fits.StepBytes, 200_000_000, 3 * Gb);

        var config = Config("baseline", "8192x8192");
        var huge = MemoryEstimate.For(config, photos: 140, trainPhotos: 112, machineBytes: 64 * Gb);
        Assert.False(huge.Fits);
        // The input batch alone: 32 x 3 x 8192 x 8192 floats, twice (batch and augmented copy).
        Assert.True(huge.StepBytes > 2L * 32 * 3 * 8192 * 8192 * 4);
        var e = Assert.Throws<MaskLabInputException>(() => huge.ThrowIfTooLarge(config));
        Assert.Contains("8192x8192", e.Message);
        Assert.Contains("this machine has 64.0 GB", e.Message);
        Assert.Contains(MemoryEstimate.Gb(huge.TotalBytes), e.Message);
    }

    [Fact]
    public void TheBatchIsCappedByTheTrainingPhotos()
    {
        var few = MemoryEstimate.For(Config("baseline", "64x64", batch: 100_000), photos: 20, trainPhotos: 16, machineBytes: 64 * Gb);
        Assert.Equal(16, few.Batch);
        Assert.True(few.Fits);
    }

    [Fact]
    public void PhotosPastTheCachesBudgetAreDecodedAgainNotHeld()
    {
        // 200,000 photos at 96x128 need 7.4 GB decoded; a 4 GB machine gives the cache 2 GB.
        var estimate = MemoryEstimate.For(Config("baseline", "96x128"), photos: 200_000, trainPhotos: 150_000, machineBytes: 4 * Gb);
        Assert.True(estimate.CacheSpills);
        Assert.Equal(2 * Gb, estimate.CacheBytes);
        Assert.True(estimate.Fits, MemoryEstimate.Gb(estimate.TotalBytes));
        Assert.Contains("decoded again", estimate.SpillNote());
        Assert.Null(MemoryEstimate.For(Config("baseline", "96x128"), 2000, 1500, machineBytes: 4 * Gb).SpillNote());
    }

    [Fact]
    public void ActivationsGrowWithThePixelsPastTheMeasuredSize()
    {
        // Measured at 160x160; 320x320 is extrapolated from 80x80 and 160x160: a convolution net grows with the pixels.
        var (at160, _) = MemoryEstimate.ActivationsPerImage("baseline", 18, new ImageSize(160, 160));
        var (at320, _) = MemoryEstimate.ActivationsPerImage("baseline", 18, new ImageSize(320, 320));
        Assert.InRange(at320 / at160, 3.6, 4.8); // pooling rounds down at the smaller size, so the growth seen is a little over linear
        // The baseline's first layer alone keeps 32 channels of 160x160 floats (and its ReLU as many).
        Assert.True(at160 >= 32.0 * 160 * 160 * 4, $"{at160}");
    }

    [Fact]
    public void AModelThatCannotTakeTheSizeIsNamed()
    {
        var e = Assert.Throws<MaskLabInputException>(() => MemoryEstimate.ActivationsPerImage("baseline", 18, new ImageSize(2, 2)));
        Assert.Contains("baseline", e.Message);
        Assert.Contains("2x2", e.Message);
    }
}
