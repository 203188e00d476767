using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Evaluation;
using MaskLab.Models;
using MaskLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Tests;

public class EnsembleTests
{
    static float[,] RandomProbs(int rows, int classes, int seed)
    {
        var rng = new Random(seed);
        var p = new float[rows, classes];
        for (int i = 0; i < rows; i++)
        {
            float sum = 0;
            for (int c = 0; c < classes; c++) sum += p[i, c] = (float)rng.NextDouble();
            for (int c = 0; c < classes; c++) p[i, c] /= sum;
        }
        return p;
    }

    [Fact]
    public void AnEnsembleOfOneEqualsTheRunAndTwoIdenticalRunsEqualOne()
    {
        var p = RandomProbs(30, 18, 1);
        Assert.Equal(p, Ensemble.Combine([p], null, Vote.Soft));
        Assert.Equal(p, Ensemble.Combine([p, p], null, Vote.Soft));
        Assert.Equal(p, Ensemble.Combine([p, p], [0.3, 0.7], Vote.Soft));
        Assert.Equal(Metrics.Argmax(p), Metrics.Argmax(Ensemble.Combine([p], null, Vote.Hard)));
        Assert.Equal(Metrics.Argmax(p), Metrics.Argmax(Ensemble.Combine([p, p], null, Vote.Hard)));
    }

    [Fact]
    public void SoftAveragesAndHardCountsVotes()
    {
        // Two models mildly prefer class 0, one is very sure of class 1: the majority wins a hard vote, the confident
        // one a soft vote.
        float[,] a = { { 0.55f, 0.45f } }, b = { { 0.55f, 0.45f } }, c = { { 0.0f, 1.0f } };
        Assert.Equal(1, Metrics.Argmax(Ensemble.Combine([a, b, c], null, Vote.Soft))[0]);
        Assert.Equal(0, Metrics.Argmax(Ensemble.Combine([a, b, c], null, Vote.Hard))[0]);
        // Weights move the hard vote.
        Assert.Equal(1, Metrics.Argmax(Ensemble.Combine([a, b, c], [1, 1, 3], Vote.Hard))[0]);
        var soft = Ensemble.Combine([a, c], [1, 3], Vote.Soft);
        Assert.Equal((0.55 + 0) / 4, soft[0, 0], 5);
    }

    static string WriteOofRun(LabeledSet set, int[] folds, float[,] probs)
    {
        var dir = Directory.CreateTempSubdirectory("masklab-oof-").FullName;
        OofFile.Write(Path.Combine(dir, "oof.csv"), set, folds, probs);
        return dir;
    }

    [Fact]
    public void BlendWeightsArePickedOnOofAndBeatOrMatchEachRun()
    {
        int n = 60, classes = 3;
        var samples = Enumerable.Range(0, n).Select(i => new Sample($"img{i}.jpg", i % classes, $"p{i / 3}")).ToArray();
        var set = new LabeledSet(samples, ["a", "b", "c"], false, "/x");
        var folds = samples.Select((_, i) => i / 3 % 3).ToArray();
        // Run A is right on the first half, run B on the second: together they are right everywhere.
        var pa = new float[n, classes];
        var pb = new float[n, classes];
        for (int i = 0; i < n; i++)
        {
            int truth = i % classes, wrong = (truth + 1) % classes;
            pa[i, i < n / 2 ? truth : wrong] = 1;
            pb[i, i < n / 2 ? wrong : truth] = 0.6f; pb[i, i < n / 2 ? truth : wrong] = 0.4f;
        }
        var runA = WriteOofRun(set, folds, pa);
        var runB = WriteOofRun(set, folds, pb);
        var result = OofBlend.Fit([runA, runB], 0.1);
        Assert.True(result.BlendMacroF1 >= result.RunMacroF1.Max());
        Assert.Equal(1.0, result.Weights.Sum(), 9);
        var single = OofBlend.Fit([runA]);
        Assert.Equal(single.RunMacroF1[0], single.BlendMacroF1, 12);

        var otherFolds = WriteOofRun(set, folds.Select(f => (f + 1) % 3).ToArray(), pb);
        var e = Assert.Throws<MaskLabInputException>(() => OofBlend.Fit([runA, otherFolds]));
        Assert.Contains(otherFolds, e.Message);
    }

    /// <summary>Scores the left half of the image against the right half: a flipped view swaps the two logits.</summary>
    sealed class LeftRight() : nn.Module<Tensor, Tensor>("left_right")
    {
        public override Tensor forward(Tensor x)
        {
            long w = x.shape[3];
            var left = x[.., .., .., ..(int)(w / 2)].mean([1, 2, 3]);
            var right = x[.., .., .., (int)(w / 2)..].mean([1, 2, 3]);
            return stack([left, right], 1) * 10;
        }
    }

    [Fact]
    public void TheFlipViewReallyFlips()
    {
        // One photo bright on the left only: the plain view says class 0, the flipped view class 1, the flip TTA
        // average sits exactly between.
        var dir = Directory.CreateTempSubdirectory("masklab-flip-").FullName;
        var path = Path.Combine(dir, "x.png");
        using (var bmp = new SkiaSharp.SKBitmap(8, 8))
        {
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++) bmp.SetPixel(x, y, x < 4 ? SkiaSharp.SKColors.White : SkiaSharp.SKColors.Black);
            using var f = File.OpenWrite(path);
            bmp.Encode(f, SkiaSharp.SKEncodedImageFormat.Png, 100);
        }
        var samples = new[] { new Sample(path, 0, "p") };
        var cache = new ImageCache(8, 8);
        var head = OutputHeads.Create(2);
        using var model = new LeftRight();
        BatchLoader Loader() => new(samples, [0], s => s.Label, cache, LoaderOptions.ForEvaluation(1, 8, 8));
        var plain = Inference.Run(model, head, Loader(), 1, 2).Probabilities;
        var tta = Inference.Run(model, head, Loader(), 1, 2, flipTta: true).Probabilities;
        Assert.True(plain[0, 0] > 0.99);
        Assert.Equal(0.5, tta[0, 0], 5);
        Assert.Equal(0.5, tta[0, 1], 5);
    }
}
