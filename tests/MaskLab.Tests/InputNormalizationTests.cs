using MaskLab.Data.Loading;
using MaskLab.Platform;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Tests;

public sealed class InputNormalizationTests
{
    public InputNormalizationTests() => NativeSetup.Initialize();

    static byte[] Photo(int width, int height, int seed)
    {
        var random = new Random(seed);
        var bytes = new byte[width * height * 3];
        random.NextBytes(bytes);
        return bytes;
    }

    static Tensor Unit(byte[] rgb, int width, int height)
    {
        var planes = new float[3 * width * height];
        Augmentation.Normalize(rgb, width, height, planes, InputNormalization.LoaderPassThrough);
        return tensor(planes, [1, 3, height, width]);
    }

    [Fact]
    public void The_loader_pass_through_gives_rgb_in_0_to_1()
    {
        var rgb = Photo(5, 4, 1);
        var x = Unit(rgb, 5, 4);
        // Pixel (x=2, y=1), channel G.
        Assert.Equal(rgb[(1 * 5 + 2) * 3 + 1] / 255f, x[0, 1, 1, 2].item<float>(), 6);
    }

    [Fact]
    public void A_per_channel_description_done_by_the_loader_equals_applying_it_to_the_batch()
    {
        using var scope = NewDisposeScope();
        var n = InputNormalization.PerChannel("scaled", 255f, [120f, 110f, 100f], [60f, 55f, 50f]);
        var loader = n.AsLoaderNormalization();
        Assert.NotNull(loader);
        var rgb = Photo(7, 6, 2);
        var planes = new float[3 * 7 * 6];
        Augmentation.Normalize(rgb, 7, 6, planes, loader.Value);
        var applied = n.Apply(Unit(rgb, 7, 6));
        Assert.True(allclose(tensor(planes, [1, 3, 6, 7]), applied, rtol: 1e-5, atol: 1e-5));
        // Worked by hand: (200 - 110) / 55 for a G byte of 200.
        Assert.Equal((200f - 110f) / 55f, n.Apply(tensor(new[] { 0f, 200f / 255f, 0f }, [1, 3, 1, 1]))[0, 1, 0, 0].item<float>(), 4);
    }

    [Fact]
    public void The_task_statistics_round_trip_through_a_description()
    {
        var n = InputNormalization.From("task", ImageNormalization.Task);
        Assert.Equal(ImageNormalization.Task, n.AsLoaderNormalization());
    }

    [Fact]
    public void A_per_pixel_mean_is_resized_like_torch_bilinear_without_corner_alignment()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var image = rand(3, 20, 30).mul_(255f);
        var n = InputNormalization.PerPixel("img", 255f, image.data<float>().ToArray(), 30, 20, [1f, 1f, 1f]);
        Assert.Null(n.AsLoaderNormalization());
        Assert.Equal(image.data<float>().ToArray(), n.MeanAt(30, 20));
        foreach (var (w, h) in new[] { (12, 9), (45, 50), (30, 7) })
        {
            var expected = nn.functional.interpolate(image.unsqueeze(0), [h, w], mode: InterpolationMode.Bilinear, align_corners: false);
            var ours = tensor(n.MeanAt(w, h), [1, 3, h, w]);
            Assert.True(allclose(expected, ours, rtol: 1e-5, atol: 1e-3), $"{w}x{h}");
        }
    }

    [Fact]
    public void Applying_a_per_pixel_mean_subtracts_it_at_the_batch_size()
    {
        using var scope = NewDisposeScope();
        var mean = Enumerable.Range(0, 3 * 4 * 6).Select(i => (float)i).ToArray();
        var n = InputNormalization.PerPixel("img", 255f, mean, 6, 4, [1f, 2f, 4f]);
        var x = full(2, 3, 4, 6, 100f / 255f);
        var y = n.Apply(x);
        // Channel B (index 2), row 3, column 5: (100 - mean[2, 3, 5]) / 4.
        Assert.Equal((100f - mean[2 * 24 + 3 * 6 + 5]) / 4f, y[1, 2, 3, 5].item<float>(), 3);
        Assert.Equal(100f / 255f, x[1, 2, 3, 5].item<float>(), 6);   // Apply leaves its input alone
        Assert.Equal(new long[] { 3, 2, 3 }, n.Apply(rand(3, 2, 3)).shape);   // one image, resized mean

        var channelMeans = n.ChannelAverages();
        Assert.False(channelMeans.IsPerPixel);
        Assert.Equal(mean.Skip(24).Take(24).Average(), channelMeans.Mean[1], 3);
    }

    [Theory]
    [InlineData(new long[] { 2, 1, 4, 4 })]
    [InlineData(new long[] { 4, 4 })]
    public void A_batch_of_another_shape_is_an_input_error(long[] shape)
    {
        var n = InputNormalization.PerChannel("x", 1f, [0f, 0f, 0f], [1f, 1f, 1f]);
        var e = Assert.Throws<MaskLabInputException>(() => n.Apply(zeros(shape)));
        Assert.Contains("[N, 3, H, W]", e.Message);
    }

    [Fact]
    public void Bad_descriptions_are_input_errors()
    {
        Assert.Throws<MaskLabInputException>(() => InputNormalization.PerChannel("x", 1f, [0f, 0f], [1f, 1f, 1f]));
        Assert.Throws<MaskLabInputException>(() => InputNormalization.PerChannel("x", 1f, [0f, 0f, 0f], [1f, 0f, 1f]));
        Assert.Throws<MaskLabInputException>(() => InputNormalization.PerPixel("x", 1f, new float[10], 2, 2, [1f, 1f, 1f]));
    }
}
