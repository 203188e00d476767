using MaskLab.Platform;

namespace MaskLab.Runs;

/// <summary>The precision a run trains in, and why: <c>auto</c> made concrete for the device and CPU at hand.</summary>
public sealed record ResolvedPrecision(Precision Precision, string Reason)
{
    public string Name => ConfigValues.EnumText(Precision);

    /// <summary>One line for the log, e.g. "precision bf16 (auto: the CPU computes bf16 natively: avx512_bf16)".</summary>
    public string Describe() => $"precision {Name} ({Reason})";
}

/// <summary>
/// Turns the <c>precision</c> setting into fp32, bf16 or fp16. <c>auto</c> takes bf16 mixed precision on a CPU
/// with native bf16 (AVX-512 BF16 or AMX), where it trains 1.4-1.5x faster at the same F1 (docs/STUDIES.md), and fp32
/// elsewhere: a CPU without it emulates bf16 more slowly than fp32, and on a GPU MaskLab's bf16 gain is not yet
/// measured (the GPU figures are owed; set bf16 there by hand).
/// </summary>
public static class PrecisionChoice
{
    public static ResolvedPrecision Resolve(Precision setting, bool cuda, CpuFeatures cpu)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        if (setting != Precision.Auto) return new(setting, "asked for");
        if (cuda) return new(Precision.Fp32, "auto: on a GPU fp32 until bf16 is measured there");
        return cpu.NativeBf16
            ? new(Precision.Bf16, $"auto: the CPU computes bf16 natively ({cpu.Bf16Flags})")
            : new(Precision.Fp32, "auto: the CPU has no native bf16 (neither avx512_bf16 nor amx_bf16)");
    }
}
