using System.Text.Json;

namespace MaskLab.Tests;

/// <summary>precision=bf16 through the real verbs: a bf16 run is evaluated by the fp32 eval verb; bench times bf16.</summary>
[Collection(CliConsoleCollection.Name)]
public class MixedPrecisionCliTests
{
    [Fact]
    public void Bf16RunTrainsAndEvaluatesFromItsFp32Checkpoint()
    {
        var run = Path.Combine(Directory.CreateTempSubdirectory("masklab-bf16run-").FullName, "run");
        var r = CliHarness.Run("train", "--data", TinySynthetic.Root, "--out", run, "--set", "model=resnet18",
            "--set", "image_size=24x32", "--set", "batch_size=16", "--set", "warmup_epochs=0", "--set", "threads=2",
            "--set", "epochs=2", "--set", "precision=bf16", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var json = JsonDocument.Parse(r.LastStdoutLine);
        Assert.Equal("bf16", json.RootElement.GetProperty("precision").GetString());
        double trained = json.RootElement.GetProperty("best_val_macro_f1").GetDouble();

        var lines = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.All(lines, l => Assert.True(double.IsFinite(JsonDocument.Parse(l).RootElement.GetProperty("train_loss").GetDouble()), l));

        var eval = CliHarness.Run("eval", "--run", run, "--data", TinySynthetic.Root, "--json");
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        using var evalJson = JsonDocument.Parse(eval.LastStdoutLine);
        Assert.InRange(evalJson.RootElement.GetProperty("macro_f1").GetDouble(), 0, 1);
        Assert.True(trained > 0, $"best val macro F1 {trained}");
    }

    [Fact]
    public void BenchTimesBf16AndRejectsUnknownPrecisions()
    {
        var r = CliHarness.Run("bench", "--model", "baseline", "--size", "24x32", "--batch", "4", "--steps", "2", "--warmup", "1", "--precision", "bf16", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var json = JsonDocument.Parse(r.LastStdoutLine);
        Assert.Equal("bf16", json.RootElement.GetProperty("precision").GetString());
        Assert.True(json.RootElement.GetProperty("train_images_per_second").GetDouble() > 0);
        Assert.True(json.RootElement.GetProperty("infer_images_per_second").GetDouble() > 0);
        Assert.True(json.RootElement.GetProperty("peak_memory_mb").GetDouble() > 10);

        var bad = CliHarness.Run("bench", "--precision", "fp8");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("fp8", bad.Stderr);
        var cuda = CliHarness.Run("train", "--set", "device=cuda");
        Assert.Equal(2, cuda.ExitCode);
        Assert.Contains("cuda", cuda.Stderr);
    }

    [Theory]
    [InlineData("fp32", new[] { "zero grad", "forward", "loss", "backward", "dispose", "optimiser" })]
    [InlineData("bf16", new[] { "zero grad", "forward", "loss", "backward", "grads to fp32", "dispose", "optimiser", "weights to bf16" })]
    public void BenchProfileSplitsTheStepIntoPhasesThatFitInsideIt(string precision, string[] expected)
    {
        var r = CliHarness.Run("bench", "--model", "baseline", "--size", "24x32", "--batch", "4", "--steps", "3", "--warmup", "1",
            "--precision", precision, "--profile", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("phase by phase", r.Stdout);
        using var json = JsonDocument.Parse(r.LastStdoutLine);
        var phases = json.RootElement.GetProperty("phases_ms").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
        Assert.Equal(expected, phases.Keys);
        Assert.All(phases.Values, ms => Assert.True(ms >= 0));
        // Medians of parts need not add up to the median step exactly, but they cannot exceed it by much.
        double stepMs = 1000 * 4 / json.RootElement.GetProperty("train_images_per_second").GetDouble();
        Assert.True(phases.Values.Sum() <= 1.5 * stepMs, $"phases {phases.Values.Sum():F2} ms vs step {stepMs:F2} ms");
        Assert.True(phases["forward"] > 0 && phases["backward"] > 0);
        Assert.True(json.RootElement.GetProperty("matmul_ceiling_gflops").GetDouble() > 0);
        Assert.True(json.RootElement.GetProperty("train_gflops").GetDouble() > 0);
    }
}
