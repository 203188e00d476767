using System.Text.Json;
using MaskLab.Evaluation;
using MaskLab.Losses;
using MaskLab.Models;
using MaskLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Tests;

/// <summary>The mask / gender / age head: probabilities, loss, soft targets.</summary>
public class MultiHeadTests
{
    public MultiHeadTests() => MaskLab.Platform.NativeSetup.Initialize();

    static float[,] RandomLogits(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n, 8];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < 8; j++)
                x[i, j] = (float)(rng.NextDouble() * 6 - 3);
        return x;
    }

    static double[] Softmax(float[,] x, int row, int from, int count)
    {
        var max = Enumerable.Range(from, count).Max(j => x[row, j]);
        var e = Enumerable.Range(from, count).Select(j => Math.Exp(x[row, j] - max)).ToArray();
        var s = e.Sum();
        return e.Select(v => v / s).ToArray();
    }

    static double CrossEntropyByHand(float[,] x, int row, int from, int count, int target) =>
        -Math.Log(Softmax(x, row, from, count)[target]);

    static MultiHead Head(string loss, params double[] weights)
    {
        var config = RunConfig.Load(null, [$"loss={loss}", "head=multi", "age_head=none", "head_weights=" + string.Join(",", weights)]);
        return Assert.IsType<MultiHead>(OutputHeads.Create(config.HeadSection, 18, taskClasses: true, config.LossSection));
    }

    [Fact]
    public void ProbabilitiesAreTheProductOfTheAttributeSoftmaxesAndSumToOne()
    {
        var x = RandomLogits(5, 1);
        var head = Head("cross_entropy", 1, 1, 1);
        Assert.Equal(8, head.Outputs);
        using var p = head.Probabilities(tensor(x));
        Assert.Equal(new long[] { 5, 18 }, p.shape);
        var probs = p.data<float>().ToArray();
        for (var n = 0; n < 5; n++)
        {
            var pm = Softmax(x, n, 0, 3);
            var pg = Softmax(x, n, 3, 2);
            var pa = Softmax(x, n, 5, 3);
            double sum = 0;
            for (var c = 0; c < 18; c++)
            {
                var (m, g, a) = Data.Layout.TaskClasses.Decode(c);
                Assert.Equal(pm[(int)m] * pg[(int)g] * pa[(int)a], probs[n * 18 + c], 5);
                sum += probs[n * 18 + c];
            }
            Assert.Equal(1.0, sum, 5);
        }
    }

    [Fact]
    public void LossIsTheWeightedSumOfTheAttributeLosses()
    {
        var x = RandomLogits(4, 2);
        long[] labels = [0, 7, 11, 17];   // (mask, gender, age): (0,0,0), (1,0,1), (1,1,2), (2,1,2)
        double[] w = [1, 0.5, 2];
        double expected = 0;
        for (var n = 0; n < 4; n++)
        {
            var (m, g, a) = Data.Layout.TaskClasses.Decode((int)labels[n]);
            expected += (w[0] * CrossEntropyByHand(x, n, 0, 3, (int)m)
                + w[1] * CrossEntropyByHand(x, n, 3, 2, (int)g)
                + w[2] * CrossEntropyByHand(x, n, 5, 3, (int)a)) / 4;
        }
        var head = Head("cross_entropy", w);
        using var hard = head.Loss(tensor(x), tensor(labels));
        Assert.Equal(expected, hard.item<float>(), 4);

        // One-hot soft targets are the same targets.
        using var oneHot = nn.functional.one_hot(tensor(labels), 18).to_type(ScalarType.Float32);
        using var soft = head.Loss(tensor(x), oneHot);
        Assert.Equal(expected, soft.item<float>(), 4);

        // A weight of 0 drops that attribute.
        using var maskOnly = Head("cross_entropy", 1, 0, 0).Loss(tensor(x), tensor(labels));
        var maskExpected = Enumerable.Range(0, 4).Average(n => CrossEntropyByHand(x, n, 0, 3, (int)Data.Layout.TaskClasses.MaskOf((int)labels[n])));
        Assert.Equal(maskExpected, maskOnly.item<float>(), 4);
    }

    [Fact]
    public void SoftTargetsMarginaliseToTheAttributes()
    {
        var t = new float[2, 18];
        t[0, 0] = 0.6f; t[0, 13] = 0.4f;   // class 13 = (2, 0, 1)
        t[1, 17] = 0.3f; t[1, 4] = 0.7f;   // 17 = (2, 1, 2), 4 = (0, 1, 1)
        var (m, g, a) = MultiHead.AttributeTargets(tensor(t));
        Assert.Equal(new[] { 0.6f, 0f, 0.4f, 0.7f, 0f, 0.3f }, m.data<float>().ToArray());
        Assert.Equal(new[] { 1f, 0f, 0f, 1f }, g.data<float>().ToArray());
        Assert.Equal(new[] { 0.6f, 0.4f, 0f, 0f, 0.7f, 0.3f }, a.data<float>().ToArray());

        var (hm, hg, ha) = MultiHead.AttributeTargets(tensor(new long[] { 13, 17, 4 }));
        Assert.Equal(new long[] { 2, 2, 0 }, hm.data<long>().ToArray());
        Assert.Equal(new long[] { 0, 1, 1 }, hg.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 2, 1 }, ha.data<long>().ToArray());

        // Cross entropy is linear in the target, so a CutMix-style mix of two labels costs the mix of their losses.
        var x = RandomLogits(1, 3);
        var head = Head("cross_entropy", 1, 1, 1);
        var mix = new float[1, 18];
        mix[0, 13] = 0.25f; mix[0, 4] = 0.75f;
        using var mixed = head.Loss(tensor(x), tensor(mix));
        using var l13 = head.Loss(tensor(x), tensor(new long[] { 13 }));
        using var l4 = head.Loss(tensor(x), tensor(new long[] { 4 }));
        Assert.Equal(0.25 * l13.item<float>() + 0.75 * l4.item<float>(), mixed.item<float>(), 4);
    }

    [Fact]
    public void MultiHeadOnOtherClassesAndBadSettingsAreConfigErrors()
    {
        var config = RunConfig.Load(null, ["head=multi"]);
        var e = Assert.Throws<MaskLabInputException>(() => OutputHeads.Create(config.HeadSection, 5, taskClasses: false));
        Assert.Contains("multi", e.Message);
        Assert.Throws<MaskLabInputException>(() => OutputHeads.Create(config.HeadSection, 18, taskClasses: false));

        Assert.Contains("head_weights", Assert.Throws<MaskLabInputException>(() => RunConfig.Load(null, ["head_weights=1,1"]).Validate()).Message);
        Assert.Contains("head_weights", Assert.Throws<MaskLabInputException>(() => RunConfig.Load(null, ["head_weights=1,-1,1"]).Validate()).Message);
        Assert.Contains("head 'triple'", Assert.Throws<MaskLabInputException>(() => RunConfig.Load(null, ["head=triple"]).Validate()).Message);
        Assert.Contains("class_weights", Assert.Throws<MaskLabInputException>(() => RunConfig.Load(null, ["head=multi", "class_weights=balanced"]).Validate()).Message);
        RunConfig.Load(null, ["head=multi", "head_weights=1, 0.5, 2"]).Validate();
    }

    [Fact]
    public void PeakMemoryReadsVmHwm()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("masklab-status-").FullName, "status");
        File.WriteAllText(file, "Name:\tdotnet\nVmPeak:\t 9000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t 1000 kB\n");
        Assert.Equal(200.0, PeakMemory.Megabytes(file));
        Assert.Null(PeakMemory.Megabytes("/nonexistent/status"));
        if (File.Exists("/proc/self/status")) Assert.True(PeakMemory.Megabytes() > 10);
    }
}

/// <summary>A multi-head run through the CLI: trains, saves, and predicts / evaluates through TrainedRun.</summary>
[Collection(CliConsoleCollection.Name)]
public class MultiHeadCliTests
{
    static readonly string[] Tiny = ["--set", "model=baseline", "--set", "image_size=24x32", "--set", "batch_size=16", "--set", "warmup_epochs=0", "--set", "threads=2", "--set", "epochs=1", "--set", "age_head=none", "--set", "face_crop=none"];

    [Fact]
    public void MultiHeadRunTrainsSavesAndPredicts()
    {
        var dir = Directory.CreateTempSubdirectory("masklab-multi-").FullName;
        var run = Path.Combine(dir, "run");
        var r = CliHarness.Run(["train", "--data", TinySynthetic.Root, "--out", run, .. Tiny, "--set", "head=multi", "--set", "head_weights=1,1,2", "--json"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        using (var json = JsonDocument.Parse(r.LastStdoutLine))
        {
            Assert.Equal(18, json.RootElement.GetProperty("classes").GetInt32());
            Assert.True(json.RootElement.GetProperty("peak_memory_mb").GetDouble() > 10);
            Assert.True(json.RootElement.GetProperty("train_images_per_second").GetDouble() > 0);
        }

        using (var trained = TrainedRun.Load(run))
        {
            var head = Assert.IsType<MultiHead>(trained.Head);
            Assert.Equal(new[] { 1.0, 1.0, 2.0 }, head.Weights);
            using var logits = trained.Model.call(torch.zeros(2, 3, 32, 24));
            Assert.Equal(new long[] { 2, 8 }, logits.shape);
        }

        var eval = CliHarness.Run("eval", "--run", run, "--data", TinySynthetic.Root, "--json");
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        using (var evalJson = JsonDocument.Parse(eval.LastStdoutLine))
            foreach (var key in new[] { "macro_f1", "mask_f1", "gender_f1", "age_f1" })
                Assert.InRange(evalJson.RootElement.GetProperty(key).GetDouble(), 0, 1);

        var sub = Path.Combine(dir, "sub.csv");
        var p = CliHarness.Run("predict", "--run", run, "--data", TinySynthetic.Root, "--out", sub, "--tta");
        Assert.True(p.ExitCode == 0, p.Stderr);
        var rows = File.ReadAllLines(sub);
        Assert.Equal("ImageID,ans", rows[0]);
        Assert.Equal(File.ReadAllLines(Path.Combine(TinySynthetic.Root, "eval", "info.csv")).Length, rows.Length);
        Assert.All(rows.Skip(1), l => Assert.InRange(int.Parse(l.Split(',')[1]), 0, 17));
    }

    [Fact]
    public void MultiHeadOnImageFolderWithOtherClassesIsOneLineError()
    {
        var data = Fixtures.WriteImageFolder(Directory.CreateTempSubdirectory("masklab-cats-").FullName, ["cat", "dog"], perClass: 6);
        var run = Path.Combine(Directory.CreateTempSubdirectory("masklab-multi-bad-").FullName, "run");
        var r = CliHarness.Run(["train", "--data", data, "--out", run, .. Tiny, "--set", "head=multi"]);
        Assert.Equal(2, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line, got: {r.Stderr}");
        Assert.Contains("head 'multi'", lines[0]);
        Assert.Contains("2 other classes", lines[0]);
        Assert.DoesNotContain("   at ", r.Stderr);
    }
}
