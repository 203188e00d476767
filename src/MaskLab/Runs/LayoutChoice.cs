using MaskLab.Platform;

namespace MaskLab.Runs;

/// <summary>Whether a run trains in the channels-last layout, and why: <c>auto</c> made concrete for the precision, device and CPU at hand.</summary>
public sealed record ResolvedLayout(bool ChannelsLast, string Reason)
{
    public string Name => ChannelsLast ? "channels-last" : "contiguous";

    /// <summary>One line for the log, e.g. "layout channels-last (auto: a start-up probe finds bf16 convolutions right in it ...)".</summary>
    public string Describe() => $"layout {Name} ({Reason})";
}

/// <summary>
/// Turns the <c>channels_last</c> setting into a layout. <c>auto</c> takes channels-last on a CPU for fp32 and bf16,
/// where libtorch's oneDNN runs convolutions faster in it (bench/RESULTS.md), but only once a start-up probe finds the
/// run's precision computed right in it on this CPU: oneDNN gets fp32 1x1 convolutions wrong in channels-last on some
/// AVX-512 CPUs (<see cref="ConvolutionCheck.ChannelsLastWrong"/>), and such a CPU keeps the contiguous layout. fp16
/// (a GPU's precision) and GPUs, where MaskLab's channels-last gain is not yet measured, keep it too.
/// </summary>
public static class LayoutChoice
{
    /// <param name="probeWrong">Whether convolutions of the given precision are wrong in channels-last here; asked only where it decides.</param>
    public static ResolvedLayout Resolve(ChannelsLastChoice setting, Precision precision, bool cuda, Func<Precision, bool> probeWrong)
    {
        ArgumentNullException.ThrowIfNull(probeWrong);
        if (setting == ChannelsLastChoice.True) return new(true, "asked for");
        if (setting == ChannelsLastChoice.False) return new(false, "asked for");
        var name = ConfigValues.EnumText(precision);
        if (cuda) return new(false, "auto: on a GPU contiguous until channels-last is measured there");
        if (precision is not (Precision.Fp32 or Precision.Bf16)) return new(false, $"auto: {name} stays contiguous on a CPU");
        if (probeWrong(precision)) return new(false, $"auto: a start-up probe finds {name} convolutions wrong in channels-last on this CPU");
        return new(true, $"auto: a start-up probe finds {name} convolutions right in it on this CPU, where they run faster");
    }

    /// <summary>The start-up probes of this machine: <see cref="ConvolutionCheck"/>'s, for the precision asked.</summary>
    public static bool ProbeWrong(Precision precision) => precision switch
    {
        Precision.Bf16 => ConvolutionCheck.ChannelsLastBf16Wrong,
        Precision.Fp32 => ConvolutionCheck.ChannelsLastWrong,
        _ => true,
    };
}
