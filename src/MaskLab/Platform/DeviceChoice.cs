using System.Globalization;

namespace MaskLab.Platform;

/// <summary>What the <c>device</c> setting asks for.</summary>
public enum DeviceTarget
{
    /// <summary>The GPU when a CUDA libtorch is loaded and a GPU is visible, else the CPU.</summary>
    Auto,
    Cpu,
    Cuda,
}

/// <summary>
/// The <c>device</c> setting as written: <c>auto</c>, <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>. <see cref="DeviceResolution"/>
/// turns it into the device a run uses.
/// </summary>
/// <param name="Index">The GPU's index for <c>cuda:N</c>; null for <c>cuda</c> (the first GPU), auto and cpu.</param>
public readonly record struct DeviceChoice(DeviceTarget Kind, int? Index = null)
{
    public static DeviceChoice Auto => new(DeviceTarget.Auto);
    public static DeviceChoice Cpu => new(DeviceTarget.Cpu);
    public static DeviceChoice Cuda(int? index = null) => new(DeviceTarget.Cuda, index);

    /// <summary>Reads the setting; anything else is a one-line error naming the value.</summary>
    public static DeviceChoice Parse(string? text)
    {
        var s = (text ?? "").Trim().ToLowerInvariant();
        switch (s)
        {
            case "auto": return Auto;
            case "cpu": return Cpu;
            case "cuda": return Cuda();
        }
        if (s.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(s.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            return Cuda(index);
        throw new MaskLabInputException($"device '{text}': expected auto, cpu, cuda or cuda:N (N = 0, 1, ...)");
    }

    public override string ToString() => Kind switch
    {
        DeviceTarget.Auto => "auto",
        DeviceTarget.Cpu => "cpu",
        _ => Index is { } i ? $"cuda:{i}" : "cuda",
    };
}
