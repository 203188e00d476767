using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Platform;

/// <summary>
/// Whether libtorch's fp32 convolutions are right on this CPU. libtorch 2.10's oneDNN, on the AMD EPYC (Zen 5,
/// AVX-512) here, computes dense convolutions with a kernel above 1x1 and 17-31, 33-47, 49-63 ... input channels
/// (more than 16, not a multiple of 16) wrongly: errors of 0.1-0.9 on outputs of order 1, in every thread count;
/// capping oneDNN at AVX2 (ONEDNN_MAX_CPU_ISA=AVX2) or computing in float64 gives the right answer. Of the registry's
/// models only googlenet has such layers (its inception 4b and 4c 3x3 convolutions take 24 channels); the ResNets,
/// VGG, the baseline and the depthwise convolutions of EfficientNet and MobileNet are right. The probe is one such
/// convolution against its float64 result: microseconds, done once.
/// In the channels-last layout the same CPU gets fp32 1x1 convolutions with 512 (or 272) output channels wrong, errors
/// of 4-9 on outputs of order 10: every ResNet18's last stage, so a ResNet trained with channels_last in fp32 there
/// computes another function than the one it exports. bf16 in channels-last is right. A second probe checks that case.
/// </summary>
public static class ConvolutionCheck
{
    static readonly Lazy<double> Error = new(Probe);

    /// <summary>
    /// The largest error of a 256-to-512-channel 1x1 convolution in the channels-last layout against float64, computed
    /// at each call (microseconds): once, in the test suite, a cached result disagreed with a model computed later.
    /// </summary>
    public static double ChannelsLastProbeError => ProbeChannelsLast();

    /// <summary>
    /// The largest error, relative to the largest output, of bf16 convolutions in the channels-last layout (the
    /// shapes of a ResNet: 1x1 256-to-512, 3x3 64-to-64, and the 24-channel 3x3 the contiguous fp32 defect hits)
    /// against float64 on the same bf16-rounded inputs; computed once, a few milliseconds.
    /// </summary>
    public static double ChannelsLastBf16ProbeError => Bf16Error.Value;

    /// <summary>bf16 keeps 8 bits of mantissa: an output rounded to bf16 is off by up to 0.4 % of its size; a wrong kernel by far more.</summary>
    public const double Bf16Tolerance = 0.02;

    /// <summary>Whether bf16 convolutions in the channels-last layout are off by more than bf16 rounding on this CPU.</summary>
    public static bool ChannelsLastBf16Wrong => ChannelsLastBf16ProbeError > Bf16Tolerance;

    static readonly Lazy<double> Bf16Error = new(() => new[]
    {
        Bf16AgainstFloat64([2, 256, 4, 4], [512, 256, 1, 1], padding: 0),
        Bf16AgainstFloat64([2, 64, 8, 8], [64, 64, 3, 3], padding: 1),
        Bf16AgainstFloat64([2, 24, 8, 8], [32, 24, 3, 3], padding: 1),
    }.Max());

    static double Bf16AgainstFloat64(long[] input, long[] weight, long padding)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var g = new Generator(11);
        var x = randn(input, generator: g).to_type(ScalarType.BFloat16);
        var w = (randn(weight, generator: g) * 0.2).to_type(ScalarType.BFloat16);
        var bf16 = nn.functional.conv2d(x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2), w, padding: [padding, padding]);
        var fp64 = nn.functional.conv2d(x.to_type(ScalarType.Float64), w.to_type(ScalarType.Float64), padding: [padding, padding]);
        var error = (bf16.to_type(ScalarType.Float64) - fp64).abs().max().item<double>();
        return error / Math.Max(fp64.abs().max().item<double>(), 1e-12);
    }

    /// <summary>A probe error above this is more than rounding: the convolution is wrong.</summary>
    public const double Tolerance = 1e-3;

    /// <summary>Whether fp32 convolutions in the channels-last layout are off by more than rounding on this CPU.</summary>
    public static bool ChannelsLastWrong => ChannelsLastProbeError > Tolerance;

    /// <summary>The largest error of a 24-channel 3x3 convolution on this CPU against float64 (about 1e-6 where right).</summary>
    public static double ProbeError => Error.Value;

    /// <summary>Whether the probe is off by more than rounding.</summary>
    public static bool Wrong => ProbeError > Tolerance;

    /// <summary>Whether a convolution of this shape is of the kind that comes out wrong where <see cref="Wrong"/>.</summary>
    public static bool Affected(long inChannels, long groups, IReadOnlyList<long> kernel) =>
        groups == 1 && inChannels > 16 && inChannels % 16 != 0 && kernel.Any(k => k > 1);

    // Two images: at batch 1 libtorch takes another path (NNPACK where the CPU has it, which is right).
    static double Probe() => AgainstFloat64([2, 24, 8, 8], [32, 24, 3, 3], padding: 1, channelsLast: false);

    static double ProbeChannelsLast() => AgainstFloat64([2, 256, 2, 2], [512, 256, 1, 1], padding: 0, channelsLast: true);

    /// <summary>The largest error of one fp32 convolution of random data against the same convolution in float64.</summary>
    static double AgainstFloat64(long[] input, long[] weight, long padding, bool channelsLast)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var g = new Generator(7);
        var x = randn(input, generator: g);
        var w = randn(weight, generator: g) * 0.2;
        var fp32In = channelsLast ? x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : x;
        var fp32 = nn.functional.conv2d(fp32In, w, padding: [padding, padding]);
        var fp64 = nn.functional.conv2d(x.to_type(ScalarType.Float64), w.to_type(ScalarType.Float64), padding: [padding, padding]);
        return (fp32.to_type(ScalarType.Float64) - fp64).abs().max().item<double>();
    }

    /// <summary>
    /// The convolution layers of <paramref name="model"/> that come out wrong on this CPU (none where the probe is
    /// right, or the model runs on a GPU), by name.
    /// </summary>
    public static IReadOnlyList<string> WrongLayers(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var layers = model.named_modules()
            .Where(m => m.module is TorchSharp.Modules.Conv2d c && Affected(c.in_channels, c.groups, c.kernel_size))
            .Select(m => m.name).ToArray();
        if (layers.Length == 0) return layers;
        var device = model.parameters().FirstOrDefault()?.device;
        return device is not null && device.type != DeviceType.CPU || !Wrong ? [] : layers;
    }
}
