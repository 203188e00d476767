using System.Text.Json;
using System.Text.Json.Nodes;

namespace MaskLab.Tests;

/// <summary>precision: auto: the CPU's flags read from /proc/cpuinfo text, the choice they make, and what a run records.</summary>
[Collection(CliConsoleCollection.Name)]
public class PrecisionChoiceTests
{
    static CpuFeatures Cpu(string flags) => CpuFeatures.Parse(["processor\t: 0", "model name\t: Some CPU", $"flags\t\t: fpu sse2 {flags}", "", "processor\t: 1", "flags\t\t: other"]);

    [Fact]
    public void Cpuinfo_flags_say_which_cpus_compute_bf16_natively()
    {
        var epyc = Cpu("avx512f avx512_bf16 avx512_vnni");
        Assert.Equal("Some CPU", epyc.Model);
        Assert.True(epyc.Avx512Bf16);
        Assert.False(epyc.AmxBf16);
        Assert.Equal("avx512_bf16", epyc.Bf16Flags);
        var xeon = Cpu("avx512_bf16 amx_bf16 amx_tile");
        Assert.True(xeon.NativeBf16);
        Assert.Equal("amx_bf16, avx512_bf16", xeon.Bf16Flags);
        var old = Cpu("avx2 avx512f");
        Assert.False(old.NativeBf16);
        Assert.Null(old.Bf16Flags);
        Assert.Empty(CpuFeatures.Parse([]).Flags);
    }

    [Fact]
    public void Auto_takes_bf16_only_where_the_cpu_has_it_and_a_setting_is_kept()
    {
        var native = Cpu("avx512_bf16");
        var none = Cpu("avx2");
        Assert.Equal(Precision.Bf16, PrecisionChoice.Resolve(Precision.Auto, cuda: false, native).Precision);
        Assert.Contains("avx512_bf16", PrecisionChoice.Resolve(Precision.Auto, cuda: false, native).Reason);
        Assert.Equal(Precision.Fp32, PrecisionChoice.Resolve(Precision.Auto, cuda: false, none).Precision);
        Assert.Equal(Precision.Fp32, PrecisionChoice.Resolve(Precision.Auto, cuda: true, native).Precision);
        Assert.Equal(Precision.Fp32, PrecisionChoice.Resolve(Precision.Fp32, cuda: false, native).Precision);
        Assert.Equal(Precision.Bf16, PrecisionChoice.Resolve(Precision.Bf16, cuda: false, none).Precision);
        Assert.Equal(Precision.Auto, RunConfig.Load(null).Precision);
    }

    [Fact]
    public void A_run_records_the_precision_auto_resolved_to_and_why()
    {
        var run = Path.Combine(Directory.CreateTempSubdirectory("masklab-autoprec-").FullName, "run");
        var r = CliHarness.Run("train", "--data", TinySynthetic.Root, "--out", run, "--set", "model=baseline", "--set", "image_size=24x32",
            "--set", "batch_size=16", "--set", "threads=2", "--set", "epochs=1", "--set", "face_crop=none", "--set", "age_head=none", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var expected = PrecisionChoice.Resolve(Precision.Auto, cuda: false, CpuFeatures.OfThisMachine);
        using var json = JsonDocument.Parse(r.LastStdoutLine);
        Assert.Equal(expected.Name, json.RootElement.GetProperty("precision").GetString());
        var metadata = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "metadata.json")))!;
        Assert.Equal("auto", metadata["precision"]!["setting"]!.GetValue<string>());
        Assert.Equal(expected.Name, metadata["precision"]!["resolved"]!.GetValue<string>());
        Assert.Equal(expected.Reason, metadata["precision"]!["reason"]!.GetValue<string>());
        Assert.Contains($"precision {expected.Name}", r.Stdout + r.Stderr);
    }
}
