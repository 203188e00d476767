using MaskLab.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Tests;

/// <summary>
/// The losses against values worked out by hand. The shared fixture is 2 samples x 3 classes:
///   sample 1: logits (0, 0, 0),    p = (1/3, 1/3, 1/3), label 0, -log p_y = ln 3
///   sample 2: logits (0, ln 3, 0), p = (1/5, 3/5, 1/5), label 1, -log p_y = ln(5/3)
/// </summary>
public class LossTests
{
    public LossTests() => MaskLab.Platform.NativeSetup.Initialize();

    static readonly double Ln3 = Math.Log(3), Ln5 = Math.Log(5), Ln53 = Math.Log(5.0 / 3);

    static Tensor FixtureLogits() => Matrix(2, 3, 0, 0, 0, 0, (float)Ln3, 0);
    static Tensor FixtureLabels() => Labels(0, 1);

    static Tensor Matrix(int n, int c, params float[] values) => tensor(values).reshape(n, c);
    static Tensor Labels(params long[] values) => tensor(values);
    static Tensor OneHot(Tensor labels, int c) => nn.functional.one_hot(labels, c).to_type(ScalarType.Float32);

    static double Value(string name, LossOptions o, Tensor logits, Tensor target, double alpha = 0.5)
    {
        using var loss = LossRegistry.Create(name, o, alpha)(logits, target);
        Assert.Equal(0, loss.dim());
        Assert.Equal(ScalarType.Float32, loss.dtype);
        return loss.item<float>();
    }

    static void Close(double expected, double actual, double tolerance = 1e-5) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"expected {expected}, got {actual}");

    [Fact]
    public void RegistryHoldsTheTaskLosses() =>
        Assert.Equal(["cross_entropy", "f1", "focal", "label_smoothing"], LossRegistry.Names);

    [Fact]
    public void CrossEntropyByHand() =>
        // (ln 3 + ln(5/3)) / 2 = ln 5 / 2
        Close(Ln5 / 2, Value("cross_entropy", new(3), FixtureLogits(), FixtureLabels()));

    [Fact]
    public void ClassWeightsGiveTorchsWeightedMean()
    {
        // torch: sum(w_y l) / sum(w_y) with w = (1, 2, 3): (1 ln 3 + 2 ln(5/3)) / (1 + 2) = (2 ln 5 - ln 3) / 3
        Close((2 * Ln5 - Ln3) / 3, Value("cross_entropy", new(3, ClassWeights: [1, 2, 3]), FixtureLogits(), FixtureLabels()));

        var (logits, labels) = RandomBatch(16, 18, seed: 10);
        var w = ClassWeights.Balanced(labels.data<long>().Select(l => (int)l).ToArray(), 18);
        using var reference = nn.functional.cross_entropy(logits, labels, weight: tensor(w));
        Close(reference.item<float>(), Value("cross_entropy", new(18, ClassWeights: w), logits, labels), 1e-6);
    }

    [Fact]
    public void ClassWeightsSpreadOverSoftTargets()
    {
        // sample 2 target (1/2, 1/2, 0): numerator 1 ln 3 + 1/2 * 1 * ln 5 + 1/2 * 2 * ln(5/3),
        // denominator (sample weights sum_c t_c w_c) 1 + (1/2 * 1 + 1/2 * 2) = 2.5
        var target = tensor(new float[] { 1, 0, 0, 0.5f, 0.5f, 0 }).reshape(2, 3);
        var expected = (Ln3 + 0.5 * Ln5 + Ln53) / 2.5;
        Close(expected, Value("cross_entropy", new(3, ClassWeights: [1, 2, 3]), FixtureLogits(), target));
        Close(expected, Value("focal", new(3, FocalGamma: 0, ClassWeights: [1, 2, 3]), FixtureLogits(), target));
    }

    [Fact]
    public void FocalByHand()
    {
        // (1 - p_y)^2 (-log p_y): sample 1 (2/3)^2 ln 3, sample 2 (2/5)^2 ln(5/3)
        double l1 = 4.0 / 9 * Ln3, l2 = 4.0 / 25 * Ln53;
        Close((l1 + l2) / 2, Value("focal", new(3), FixtureLogits(), FixtureLabels()));
        // torch's nll weighting with w = (1, 2, 3): (1 l1 + 2 l2) / 3
        Close((l1 + 2 * l2) / 3, Value("focal", new(3, ClassWeights: [1, 2, 3]), FixtureLogits(), FixtureLabels()));
    }

    [Fact]
    public void FocalGammaOneByHand() =>
        // (1 - p_y) (-log p_y): ((2/3) ln 3 + (2/5) ln(5/3)) / 2
        Close((2.0 / 3 * Ln3 + 2.0 / 5 * Ln53) / 2, Value("focal", new(3, FocalGamma: 1), FixtureLogits(), FixtureLabels()));

    [Fact]
    public void FocalWithGammaZeroIsCrossEntropy()
    {
        var (logits, labels) = RandomBatch(8, 18, seed: 1);
        float[] w = Enumerable.Range(1, 18).Select(i => i / 5f).ToArray();
        Close(Value("cross_entropy", new(18), logits, labels), Value("focal", new(18, FocalGamma: 0), logits, labels), 1e-6);
        Close(Value("cross_entropy", new(18, ClassWeights: w), logits, labels),
              Value("focal", new(18, FocalGamma: 0, ClassWeights: w), logits, labels), 1e-6);
        var soft = RandomSoftTargets(8, 18, seed: 2);
        Close(Value("cross_entropy", new(18), logits, soft), Value("focal", new(18, FocalGamma: 0), logits, soft), 1e-6);
    }

    [Fact]
    public void LabelSmoothingByHand()
    {
        // s = 0.3, C = 3: targets 0.7 on the label, 0.15 elsewhere. Sample 1 has equal log p, so its loss is
        // (sum t) ln 3 = ln 3; sample 2: 0.15 ln 5 + 0.7 ln(5/3) + 0.15 ln 5.
        var expected = (Ln3 + 0.3 * Ln5 + 0.7 * Ln53) / 2;
        Close(expected, Value("label_smoothing", new(3, Smoothing: 0.3), FixtureLogits(), FixtureLabels()));
        Close(expected, Value("cross_entropy", new(3, Smoothing: 0.3), FixtureLogits(), FixtureLabels()));
    }

    [Fact]
    public void LabelSmoothingUsesTheRealClassCount()
    {
        // C = 4, logits (ln 2, 0, 0, 0): p = (2/5, 1/5, 1/5, 1/5); s = 0.3 gives t = (0.7, 0.1, 0.1, 0.1):
        // 0.7 ln(5/2) + 0.3 ln 5. The baseline's s / (3 - 1) = 0.15 would weigh the other classes 0.45.
        Close(0.7 * Math.Log(2.5) + 0.3 * Ln5,
              Value("label_smoothing", new(4, Smoothing: 0.3), Matrix(1, 4, (float)Math.Log(2), 0, 0, 0), Labels(0)));

        // With 18 equal logits every log p is -ln 18, so the loss is (sum of the targets) ln 18: ln 18 only when
        // the smoothed targets sum to 1.
        Close(Math.Log(18), Value("label_smoothing", new(18, Smoothing: 0.1), zeros(3, 18), Labels(0, 7, 17)));
        using var smoothed = SoftTargets.Smooth(OneHot(Labels(0, 7, 17), 18), 0.1, 18);
        foreach (var rowSum in smoothed.sum(1).data<float>()) Close(1, rowSum, 1e-6);
        using var smoothedSoft = SoftTargets.Smooth(RandomSoftTargets(4, 18, seed: 3), 0.3, 18);
        foreach (var rowSum in smoothedSoft.sum(1).data<float>()) Close(1, rowSum, 1e-6);
    }

    [Fact]
    public void SmoothingZeroIsCrossEntropy()
    {
        var (logits, labels) = RandomBatch(8, 18, seed: 4);
        var ce = Value("cross_entropy", new(18), logits, labels);
        Close(ce, Value("label_smoothing", new(18, Smoothing: 0), logits, labels), 1e-7);
        // and against torch's own cross entropy
        using var reference = nn.functional.cross_entropy(logits, labels);
        Close(reference.item<float>(), ce, 1e-6);
    }

    [Fact]
    public void F1ByHand()
    {
        // class 0: tp = 1/3, fp = 1/5, fn = 2/3 -> P = 5/8, R = 1/3, F1 = 10/23
        // class 1: tp = 3/5, fp = 1/3, fn = 2/5 -> P = 9/14, R = 3/5, F1 = 18/29
        // class 2: tp = 0 -> F1 = 0, clamped to e
        var expected = 1 - (10.0 / 23 + 18.0 / 29 + SoftF1.Epsilon) / 3;
        Close(expected, Value("f1", new(3), FixtureLogits(), FixtureLabels()));
    }

    [Fact]
    public void F1LossIsOneMinusSoftMacroF1()
    {
        var (logits, labels) = RandomBatch(12, 18, seed: 5);
        var expected = 1 - SoftMacroF1(logits.data<float>().ToArray(), OneHot(labels, 18).data<float>().ToArray(), 12, 18);
        Close(expected, Value("f1", new(18), logits, labels), 1e-6);

        var soft = RandomSoftTargets(12, 18, seed: 6);
        var expectedSoft = 1 - SoftMacroF1(logits.data<float>().ToArray(), soft.data<float>().ToArray(), 12, 18);
        Close(expectedSoft, Value("f1", new(18), logits, soft), 1e-6);
    }

    /// <summary>DOMAIN's soft macro F1 in doubles, written apart from the tensor code.</summary>
    static double SoftMacroF1(float[] logits, float[] y, int n, int c)
    {
        const double e = 1e-7;
        var p = new double[n * c];
        for (var i = 0; i < n; i++)
        {
            var max = double.NegativeInfinity;
            for (var k = 0; k < c; k++) max = Math.Max(max, logits[i * c + k]);
            double total = 0;
            for (var k = 0; k < c; k++) total += p[i * c + k] = Math.Exp(logits[i * c + k] - max);
            for (var k = 0; k < c; k++) p[i * c + k] /= total;
        }
        double sumF1 = 0;
        for (var k = 0; k < c; k++)
        {
            double tp = 0, fp = 0, fn = 0;
            for (var i = 0; i < n; i++)
            {
                double pk = p[i * c + k], yk = y[i * c + k];
                tp += yk * pk;
                fp += (1 - yk) * pk;
                fn += yk * (1 - pk);
            }
            double precision = tp / (tp + fp + e), recall = tp / (tp + fn + e);
            sumF1 += Math.Clamp(2 * precision * recall / (precision + recall + e), e, 1 - e);
        }
        return sumF1 / c;
    }

    [Theory]
    [InlineData("f1+cross_entropy")]
    [InlineData("cross_entropy+focal")]
    [InlineData("f1+label_smoothing")]
    public void MixWeighsItsParts(string name)
    {
        var o = new LossOptions(18, Smoothing: 0.1);
        var (logits, labels) = RandomBatch(8, 18, seed: 7);
        var parts = name.Split('+');
        var a = Value(parts[0], o, logits, labels);
        var b = Value(parts[1], o, logits, labels);
        Close(a, Value(name, o, logits, labels, alpha: 0), 1e-7);
        Close(b, Value(name, o, logits, labels, alpha: 1), 1e-7);
        Close(a * 0.2 + b * 0.8, Value(name, o, logits, labels, alpha: 0.8), 1e-6);
        Close(a * 0.5 + b * 0.5, Value(name, o, logits, labels), 1e-6);
    }

    [Theory]
    [InlineData("cross_entropy", 2.0, 0.0, false)]
    [InlineData("cross_entropy", 2.0, 0.1, true)]
    [InlineData("label_smoothing", 2.0, 0.3, false)]
    [InlineData("focal", 2.0, 0.0, false)]
    [InlineData("focal", 2.0, 0.0, true)]
    [InlineData("focal", 0.5, 0.0, false)]
    [InlineData("focal", 0.0, 0.0, false)]
    [InlineData("f1", 2.0, 0.0, false)]
    [InlineData("f1+cross_entropy", 2.0, 0.0, false)]
    [InlineData("cross_entropy+focal", 0.5, 0.0, true)]
    [InlineData("f1+label_smoothing", 2.0, 0.1, false)]
    public void GradientsStayFiniteForSaturatedLogits(string name, double gamma, double smoothing, bool weighted)
    {
        var o = new LossOptions(3, smoothing, gamma, weighted ? [1, 2, 3] : null);
        var loss = LossRegistry.Create(name, o, 0.8);
        // right and wrong at full confidence, and a tie at +-100
        float[] values = [100, -100, 0, -100, 100, -100, 100, -100, -100, 100, 100, -100];
        long[] labels = [0, 0, 0, 1];
        foreach (var target in new[] { Labels(labels), OneHot(Labels(labels), 3), Matrix(4, 3, 0.5f, 0.5f, 0, 0, 0.2f, 0.8f, 1, 0, 0, 0, 0.5f, 0.5f) })
        {
            using var logits = tensor(values).reshape(4, 3).requires_grad_();
            using var value = loss(logits, target);
            value.backward();
            Assert.True(float.IsFinite(value.item<float>()), $"{name}: loss {value.item<float>()}");
            Assert.All(logits.grad!.data<float>().ToArray(), g => Assert.True(float.IsFinite(g), $"{name}: gradient {g}"));
        }
    }

    [Theory]
    [InlineData("cross_entropy", 0.0, false)]
    [InlineData("cross_entropy", 0.1, true)]
    [InlineData("label_smoothing", 0.3, false)]
    [InlineData("focal", 0.0, false)]
    [InlineData("focal", 0.0, true)]
    [InlineData("f1", 0.0, false)]
    [InlineData("f1+focal", 0.0, true)]
    public void OneHotSoftTargetsEqualHardOnes(string name, double smoothing, bool weighted)
    {
        float[]? w = weighted ? Enumerable.Range(0, 18).Select(i => 0.5f + i % 4).ToArray() : null;
        var o = new LossOptions(18, smoothing, ClassWeights: w);
        var (logits, labels) = RandomBatch(10, 18, seed: 8);
        Close(Value(name, o, logits, labels), Value(name, o, logits, OneHot(labels, 18)), 1e-6);
    }

    [Theory]
    [InlineData("cross_entropy")]
    [InlineData("label_smoothing")]
    [InlineData("focal")]
    [InlineData("f1")]
    public void Bf16LogitsComputeInFloat32(string name)
    {
        var o = new LossOptions(18, Smoothing: 0.1);
        var (logits, labels) = RandomBatch(8, 18, seed: 9);
        using var half = logits.to_type(ScalarType.BFloat16).requires_grad_();
        using var value = LossRegistry.Create(name, o)(half, labels);
        Assert.Equal(ScalarType.Float32, value.dtype);
        // the same numbers given as float32 give the same loss: nothing in the loss ran in bf16
        Close(Value(name, o, half.detach().to_type(ScalarType.Float32), labels), value.item<float>(), 1e-7);
        value.backward();
        Assert.Equal(ScalarType.BFloat16, half.grad!.dtype);
        Assert.All(half.grad!.to_type(ScalarType.Float32).data<float>().ToArray(), g => Assert.True(float.IsFinite(g)));
    }

    [Theory]
    [InlineData("dice", "'dice'")]
    [InlineData("f1+dice", "'dice'")]
    [InlineData("f1+focal+cross_entropy", "'f1+focal+cross_entropy'")]
    public void BadLossNamesAreNamed(string name, string named)
    {
        var e = Assert.Throws<MaskLabInputException>(() => LossRegistry.Create(name, new(18)));
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void BadLossSettingsAreNamed()
    {
        Assert.Contains("1.5", Assert.Throws<MaskLabInputException>(() => LossRegistry.Create("f1+focal", new(18), 1.5)).Message);
        Assert.Contains("-1", Assert.Throws<MaskLabInputException>(() => LossRegistry.Create("focal", new(18, FocalGamma: -1))).Message);
        Assert.Contains("1.2", Assert.Throws<MaskLabInputException>(() => LossRegistry.Create("label_smoothing", new(18, Smoothing: 1.2))).Message);
        Assert.Contains("1,2,3", Assert.Throws<MaskLabInputException>(() => LossRegistry.Create("cross_entropy", new(18, ClassWeights: [1, 2, 3]))).Message);
    }

    static (Tensor Logits, Tensor Labels) RandomBatch(int n, int c, int seed)
    {
        var random = new Random(seed);
        var logits = Enumerable.Range(0, n * c).Select(_ => (float)(random.NextDouble() * 6 - 3)).ToArray();
        var labels = Enumerable.Range(0, n).Select(_ => (long)random.Next(c)).ToArray();
        return (tensor(logits).reshape(n, c), tensor(labels));
    }

    /// <summary>Rows like CutMix's: two classes sharing the mass.</summary>
    static Tensor RandomSoftTargets(int n, int c, int seed)
    {
        var random = new Random(seed);
        var t = new float[n * c];
        for (var i = 0; i < n; i++)
        {
            var lam = (float)random.NextDouble();
            t[i * c + random.Next(c)] += lam;
            t[i * c + random.Next(c)] += 1 - lam;
        }
        return tensor(t).reshape(n, c);
    }
}
