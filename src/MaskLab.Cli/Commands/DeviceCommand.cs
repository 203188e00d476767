using System.ComponentModel;
using MaskLab.Platform;
using MaskLab.Runs;
using Spectre.Console.Cli;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Cli.Commands;

/// <summary>
/// <c>masklab device [--device auto|cpu|cuda|cuda:N] [--json]</c>: which libtorch and device a run would use, and a
/// small computation on that device to show it works.
/// </summary>
public sealed class DeviceCommand : Command<DeviceCommand.Settings>
{
    /// <summary>--json prints the device record metadata.json keeps, and the libtorch file in use.</summary>
    public sealed class Settings : DeviceSettings;

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var libtorch = LibTorchRuntime.Load();
        var resolved = DeviceResolution.Resolve(settings.Device);

        // A matrix product on the device and back: 2x2 of ones times itself sums to 8.
        double check;
        using (var a = ones(2, 2, device: resolved.Device))
        using (var b = a.matmul(a))
        using (var s = b.sum())
            check = s.cpu().item<float>();
        bool ok = Math.Abs(check - 8) < 1e-6;

        // Plain lines: paths are long, and a wrapped path cannot be copied.
        Console.WriteLine($"libtorch: {libtorch.Describe()}");
        Console.WriteLine($"in use:   {LibTorchRuntime.LoadedLibrary("libtorch_cpu.so") ?? "?"}");
        Console.WriteLine($"device:   {resolved.Info.Describe()}");
        Console.WriteLine($"check:    {(ok ? "ok" : $"wrong result {check}")}");
        var cpu = CpuFeatures.OfThisMachine;
        var precision = PrecisionChoice.Resolve(Precision.Auto, resolved.IsCuda, cpu);
        Console.WriteLine($"cpu:      {cpu.Model}; precision auto gives {precision.Name} ({precision.Reason})");
        bool convolutionsWrong = !resolved.IsCuda && ConvolutionCheck.Wrong;
        Console.WriteLine($"convolutions: {(resolved.IsCuda ? "on the GPU (not probed)" : convolutionsWrong
            ? $"WRONG on this CPU for dense ones with 17-31, 33-47, ... input channels (a 24-channel probe is off by {ConvolutionCheck.ProbeError:0.##}); googlenet is affected, the ResNets are not"
            : $"ok (a 24-channel probe is within {ConvolutionCheck.ProbeError:0.#e0} of float64)")}");
        double layoutError = resolved.IsCuda ? 0 : ConvolutionCheck.ChannelsLastProbeError;
        bool layoutWrong = layoutError > ConvolutionCheck.Tolerance;
        if (!resolved.IsCuda)
            Console.WriteLine($"channels-last fp32 convolutions: {(layoutWrong
                ? $"WRONG on this CPU for 1x1 ones of 272 or more output channels (a 256-to-512 probe is off by {layoutError:0.##}); channels_last in fp32 is not to be trusted"
                : $"ok (a 256-to-512 1x1 probe is within {layoutError:0.#e0} of float64)")}");
        double bf16Error = resolved.IsCuda ? 0 : ConvolutionCheck.ChannelsLastBf16ProbeError;
        if (!resolved.IsCuda)
            Console.WriteLine($"channels-last bf16 convolutions: {(ConvolutionCheck.ChannelsLastBf16Wrong
                ? $"WRONG on this CPU (a probe is off by {bf16Error:P1} of its largest output, more than bf16 rounding)"
                : $"ok (a probe is within {bf16Error:P2} of its largest output, bf16 rounding)")}");
        var layout = LayoutChoice.Resolve(ChannelsLastChoice.Auto, precision.Precision, resolved.IsCuda, LayoutChoice.ProbeWrong);
        Console.WriteLine($"layout:   channels_last auto gives {layout.Name} in {precision.Name} ({layout.Reason})");
        if (settings.Json)
        {
            var o = resolved.Info.ToJson();
            o["libtorch_cpu_loaded"] = LibTorchRuntime.LoadedLibrary("libtorch_cpu.so");
            o["libtorch_cuda_loaded"] = LibTorchRuntime.LoadedLibrary("libtorch_cuda.so");
            o["check"] = ok;
            o["precision_auto"] = precision.Name;
            o["convolutions_wrong"] = convolutionsWrong;
            o["channels_last_convolutions_wrong"] = layoutWrong;
            o["channels_last_bf16_convolutions_wrong"] = !resolved.IsCuda && ConvolutionCheck.ChannelsLastBf16Wrong;
            o["channels_last_auto"] = layout.ChannelsLast;
            Cli.WriteJsonLine(o);
        }
        return ok ? 0 : 1;
    }
}
