using MaskLab.Data.Loading;
using MaskLab.Models;
using MaskLab.Platform;

namespace MaskLab.Tests;

public class ModelStatsTests
{
    public ModelStatsTests() => NativeSetup.Initialize();

    [Fact]
    public void Resnet18_forward_macs_at_224_match_the_published_1_82_gmacs()
    {
        using var model = ModelRegistry.Create("resnet18", new ModelSpec(1000, 224, 224));
        var macs = ModelStats.ForwardMacs(model, 224, 224);
        // Convolutions and the classifier of torchvision's resnet18, counted by hand.
        Assert.Equal(1_814_073_344L, macs);
    }

    [Fact]
    public void Vit_macs_include_the_attention_products_at_the_interpolated_grid()
    {
        const long d = 192, hidden = 768, classes = 18;
        using var model = ModelRegistry.Create("vit_tiny_patch16", new ModelSpec((int)classes, 128, 96));
        var macs = ModelStats.ForwardMacs(model, 128, 96);
        const long patches = 8 * 6, tokens = patches + 1;
        var perBlock = tokens * d * 3 * d + 2 * tokens * tokens * d + tokens * d * d + 2 * tokens * d * hidden;
        var expected = patches * (3 * 16 * 16) * d + 12 * perBlock + d * classes;
        Assert.Equal(expected, macs);
    }

    [Fact]
    public void Efficientnet_b0_macs_at_224_are_near_the_published_0_39_gmacs()
    {
        using var model = ModelRegistry.Create("efficientnet_b0", new ModelSpec(1000, 224, 224));
        var macs = ModelStats.ForwardMacs(model, 224, 224);
        Assert.InRange(macs, 0.38e9, 0.41e9);
        Assert.True(model.training, "ForwardMacs must leave a training model in training mode");
    }

    [Theory]
    [InlineData("128x96", 128, 96)]
    [InlineData("224X224", 224, 224)]
    public void Image_size_parses_width_by_height(string text, int w, int h) =>
        Assert.Equal(new ImageSize(w, h), ImageSize.Parse(text));

    [Theory]
    [InlineData("128")]
    [InlineData("0x96")]
    [InlineData("128x-96")]
    [InlineData("axb")]
    public void Bad_image_sizes_name_the_value(string text)
    {
        var e = Assert.Throws<MaskLabInputException>(() => ImageSize.Parse(text));
        Assert.Contains($"'{text}'", e.Message);
    }
}
