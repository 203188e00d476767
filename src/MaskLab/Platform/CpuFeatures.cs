namespace MaskLab.Platform;

/// <summary>
/// What the CPU computes natively, from the kernel's list of CPU flags (<c>/proc/cpuinfo</c>, what <c>lscpu</c>
/// prints). libtorch's oneDNN runs bf16 convolutions and matrix products on AVX-512 BF16 (AMD EPYC, Intel Cooper
/// Lake and later) and on AMX tiles (Intel Sapphire Rapids and later); without either it emulates bf16 in fp32.
/// </summary>
public sealed record CpuFeatures(string Model, IReadOnlySet<string> Flags)
{
    static readonly Lazy<CpuFeatures> Current = new(() => Read("/proc/cpuinfo"));

    /// <summary>This machine's CPU; empty where /proc/cpuinfo cannot be read (not Linux).</summary>
    public static CpuFeatures OfThisMachine => Current.Value;

    /// <summary>AMX tiles for bf16 matrix products.</summary>
    public bool AmxBf16 => Flags.Contains("amx_bf16");

    /// <summary>AVX-512 instructions that multiply bf16 pairs into fp32.</summary>
    public bool Avx512Bf16 => Flags.Contains("avx512_bf16");

    public bool NativeBf16 => AmxBf16 || Avx512Bf16;

    /// <summary>The flags that make bf16 native, as lscpu spells them (e.g. "amx_bf16, avx512_bf16"), or null.</summary>
    public string? Bf16Flags => NativeBf16
        ? string.Join(", ", new[] { "amx_bf16", "avx512_bf16" }.Where(Flags.Contains))
        : null;

    public static CpuFeatures Read(string cpuinfo)
    {
        try { return Parse(File.Exists(cpuinfo) ? File.ReadLines(cpuinfo).Take(200) : []); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return Parse([]); }
    }

    /// <summary>The first processor's "model name" and "flags" lines of /proc/cpuinfo text.</summary>
    public static CpuFeatures Parse(IEnumerable<string> lines)
    {
        string model = "unknown CPU";
        HashSet<string> flags = new(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            var colon = line.IndexOf(':');
            if (colon < 0) continue;
            var key = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (key == "model name" && model == "unknown CPU") model = value;
            else if (key == "flags" && flags.Count == 0) flags.UnionWith(value.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        }
        return new CpuFeatures(model, flags);
    }
}
