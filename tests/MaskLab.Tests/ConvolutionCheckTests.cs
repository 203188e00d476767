namespace MaskLab.Tests;

/// <summary>The probe for libtorch's wrong fp32 convolutions on some AVX-512 CPUs, and which layers it concerns.</summary>
public class ConvolutionCheckTests
{
    [Fact]
    public void Dense_convolutions_with_channels_off_the_16_grid_are_the_affected_kind()
    {
        Assert.True(ConvolutionCheck.Affected(24, 1, [3, 3]));
        Assert.True(ConvolutionCheck.Affected(17, 1, [2, 2]));
        Assert.False(ConvolutionCheck.Affected(32, 1, [3, 3]));   // a multiple of 16
        Assert.False(ConvolutionCheck.Affected(12, 1, [3, 3]));   // 16 or fewer
        Assert.False(ConvolutionCheck.Affected(24, 1, [1, 1]));   // 1x1
        Assert.False(ConvolutionCheck.Affected(24, 24, [3, 3]));  // depthwise
    }

    [Fact]
    public void Googlenet_has_affected_layers_where_the_probe_fails_and_resnets_never()
    {
        NativeSetup.Initialize();
        using var googlenet = ModelRegistry.Create("googlenet", new ModelSpec(18, 32, 48));
        using var resnet = ModelRegistry.Create("resnet18_mlnet", new ModelSpec(18, 96, 128));
        var wrong = ConvolutionCheck.WrongLayers(googlenet);
        Assert.Empty(ConvolutionCheck.WrongLayers(resnet));
        if (ConvolutionCheck.Wrong)
        {
            Assert.Contains(wrong, name => name.Contains("inception4b"));
            Assert.True(ConvolutionCheck.ProbeError > 0.01, $"probe error {ConvolutionCheck.ProbeError}");
        }
        else
        {
            Assert.Empty(wrong);
            Assert.True(ConvolutionCheck.ProbeError < 1e-4, $"probe error {ConvolutionCheck.ProbeError}");
        }
    }
}
