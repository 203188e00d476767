using MaskLab.Data.Loading;
using MaskLab.Training;
using static TorchSharp.torch;

namespace MaskLab.Tests;

public class MixingTests
{
    const int N = 8, H = 16, W = 12, C = 18;

    /// <summary>Image i is filled with the value i + 1, so every pixel tells which photo it came from.</summary>
    static Batch ConstantBatch()
    {
        var values = new float[N * 3 * H * W];
        for (int i = 0; i < N; i++) Array.Fill(values, i + 1f, i * 3 * H * W, 3 * H * W);
        var labels = Enumerable.Range(0, N).Select(i => (long)i).ToArray(); // all different
        return new Batch(tensor(values, new long[] { N, 3, H, W }), tensor(labels), Enumerable.Range(0, N).ToArray());
    }

    static float[] Pixels(Batch b, int i) => b.Images[i].contiguous().data<float>().ToArray();

    static float[] Targets(Batch b, int i) => b.SoftTargets![i].data<float>().ToArray();

    [Theory]
    [InlineData(1, 0, 0)]
    [InlineData(0, 1, 0)]
    [InlineData(0, 0, 1)]
    public void LabelWeightsMatchThePixelsTakenFromThePartner(double cutmix, double vertical, double mixup)
    {
        var options = new MixOptions(Cutmix: cutmix, CutmixVertical: vertical, Mixup: mixup);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            using var batch = ConstantBatch();
            var records = Mixing.Apply(batch, options, C, seed: 7, epoch, batchIndex: 2);
            Assert.NotNull(batch.SoftTargets);
            for (int i = 0; i < N; i++)
            {
                var r = records[i];
                Assert.NotEqual(MixKind.None, r.Kind);
                Assert.NotEqual(i, r.Partner);
                var px = Pixels(batch, i);
                var t = Targets(batch, i);
                Assert.Equal(1.0, t.Sum(), 5);
                Assert.Equal(r.OwnWeight, t[i], 5);
                Assert.Equal(1 - r.OwnWeight, t[r.Partner], 5);
                if (r.Kind == MixKind.Mixup)
                {
                    // every pixel is the same blend: own * w + partner * (1 - w)
                    double expected = (i + 1) * r.OwnWeight + (r.Partner + 1) * (1 - r.OwnWeight);
                    Assert.All(px, p => Assert.Equal(expected, p, 4));
                }
                else
                {
                    double fromPartner = px.Count(p => p == r.Partner + 1) / (double)px.Length;
                    Assert.Equal(1 - r.OwnWeight, fromPartner, 9);
                    Assert.Equal(px.Length, px.Count(p => p == r.Partner + 1 || p == i + 1));
                    Assert.Equal((double)r.Box.W * r.Box.H / (H * W), fromPartner, 9);
                }
                if (r.Kind == MixKind.CutmixVertical)
                {
                    Assert.Equal(W / 2, r.Box.W);
                    Assert.Equal(H, r.Box.H);
                    Assert.True(r.Box.X == 0 || r.Box.X == W - W / 2);
                }
            }
        }
    }

    [Fact]
    public void CutmixBoxAreasFollowBetaOneOnAverage()
    {
        // With alpha = 1 the kept share is uniform on [0, 1]: its mean is near 1/2 (clipping raises it a little).
        var options = new MixOptions(Cutmix: 1, CutmixAlpha: 1);
        var weights = new List<double>();
        for (int b = 0; b < 40; b++)
        {
            using var batch = ConstantBatch();
            weights.AddRange(Mixing.Apply(batch, options, C, 1, 0, b).Select(r => r.OwnWeight));
        }
        Assert.InRange(weights.Average(), 0.45, 0.75);
        Assert.Contains(weights, w => w < 0.3);
        Assert.Contains(weights, w => w > 0.8);
    }

    [Fact]
    public void CutoutBlanksABoxAndKeepsHardLabels()
    {
        using var batch = ConstantBatch();
        var records = Mixing.Apply(batch, new MixOptions(Cutout: 1), C, 3, 0, 0);
        Assert.Null(batch.SoftTargets);
        for (int i = 0; i < N; i++)
        {
            var box = records[i].Cutout!.Value;
            var px = Pixels(batch, i);
            Assert.Equal(3 * box.W * box.H, px.Count(p => p == 0));
            Assert.True(box.W * box.H > 0);
            Assert.Equal(px.Length, px.Count(p => p == 0 || p == i + 1));
        }
    }

    [Fact]
    public void SameSeedEpochAndBatchGiveTheSameMixAndOthersDiffer()
    {
        var options = new MixOptions(Cutmix: 0.4, CutmixVertical: 0.3, Mixup: 0.3);
        using var a = ConstantBatch();
        using var b = ConstantBatch();
        using var c = ConstantBatch();
        var ra = Mixing.Apply(a, options, C, 5, 1, 3);
        var rb = Mixing.Apply(b, options, C, 5, 1, 3);
        var rc = Mixing.Apply(c, options, C, 5, 2, 3);
        Assert.Equal(ra, rb);
        Assert.Equal(a.Images.data<float>().ToArray(), b.Images.data<float>().ToArray());
        Assert.NotEqual(ra, rc);
    }

    [Fact]
    public void ProbabilitiesAreRespectedAndNoneLeavesTheBatchAlone()
    {
        var options = new MixOptions(Cutmix: 0.25, Mixup: 0.25);
        var kinds = new List<MixKind>();
        for (int b = 0; b < 100; b++)
        {
            using var batch = ConstantBatch();
            kinds.AddRange(Mixing.Apply(batch, options, C, 9, 0, b).Select(r => r.Kind));
        }
        Assert.InRange(kinds.Count(k => k == MixKind.Cutmix) / (double)kinds.Count, 0.2, 0.3);
        Assert.InRange(kinds.Count(k => k == MixKind.Mixup) / (double)kinds.Count, 0.2, 0.3);
        Assert.Null(Mixing.Transform(MixOptions.None, C, 1));
    }

    [Theory]
    [InlineData("cutmix=1.5", "cutmix")]
    [InlineData("mixup=-0.1", "mixup")]
    [InlineData("mixup_alpha=0", "mixup_alpha")]
    public void BadMixConfigNamesTheKey(string set, string key)
    {
        var e = Assert.Throws<MaskLabInputException>(() => RunConfig.Load(null, [set]).Validate());
        Assert.Contains(key, e.Message);
        var sum = Assert.Throws<MaskLabInputException>(() => RunConfig.Load(null, ["cutmix=0.6", "mixup=0.6"]).Validate());
        Assert.Contains("exceeds 1", sum.Message);
    }
}
