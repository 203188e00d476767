using System.Runtime.InteropServices;
using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using SkiaSharp;
using static TorchSharp.torch;

namespace MaskLab.Tests;

/// <summary>cutmix_old: a 60+ photo's half in every batch, per-slot seeded, targets mixed by area.</summary>
public sealed class OldCutmixTests : IDisposable
{
    readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    const int W = 8, H = 4;

    /// <summary>A solid-colour PNG per photo, so every pixel of a batch image says which photo it came from.</summary>
    (Sample[] Samples, ImageCache Cache) Photos(int count)
    {
        var samples = new Sample[count];
        for (int i = 0; i < count; i++)
        {
            var path = _dir.Combine($"p{i}.png");
            using (var bitmap = new SKBitmap(W, H))
            {
                bitmap.Erase(new SKColor((byte)(10 * i), 100, 200));
                using var image = SKImage.FromBitmap(bitmap);
                using var data = image.Encode(SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(path, data.ToArray());
            }
            // Photos 6 and 7 are the 60+ ones (class 2: mask / male / 60+).
            samples[i] = new Sample(path, i >= 6 ? 2 : i % 2, $"person{i}");
        }
        return (samples, new ImageCache(W, H));
    }

    static LoaderOptions Options => new(BatchSize: 4, Shuffle: false, AugmentOptions.None, Seed: 3, DropLast: false, W, H);

    static Batch BatchOf(Sample[] samples, ImageCache cache, params int[] indices) =>
        new BatchLoader(samples, indices, s => s.Label, cache, Options).Epoch(0).Single();

    static float[] Pixels(Batch b) => MemoryMarshal.Cast<byte, float>(b.Images.bytes).ToArray();

    [Fact]
    public void EveryBatch_GetsHalfOfA60PlusPhoto_AndHalfItsLabel()
    {
        var (samples, cache) = Photos(8);
        using var batch = BatchOf(samples, cache, 0, 1, 2, 3);
        var before = Pixels(batch);
        var records = OldCutmix.Apply(batch, samples, [6, 7], [2, 2], cache, Options, classes: 3, count: 1, seed: 3, epoch: 0, batchIndex: 0);

        var r = Assert.Single(records);
        Assert.Contains(r.OldSample, new[] { 6, 7 });
        var after = Pixels(batch);
        int plane = W * H, image = 3 * plane;
        var old = new float[image];
        Augmentation.Apply(cache.Get(samples[r.OldSample].Path).Span, W, H, old, W, H, AugmentOptions.None, ImageNormalization.Task, 3, 0, r.OldSample);
        for (int i = 0; i < 4; i++)
            for (int ch = 0; ch < 3; ch++)
                for (int y = 0; y < H; y++)
                    for (int x = 0; x < W; x++)
                    {
                        int at = i * image + ch * plane + y * W + x;
                        bool pasted = i == r.Position && (r.LeftHalf ? x < W / 2 : x >= W / 2);
                        Assert.Equal(pasted ? old[ch * plane + y * W + x] : before[at], after[at]);
                    }

        // Targets: one-hot elsewhere, half own / half 60+ for the pasted image.
        var targets = batch.SoftTargets!.data<float>().ToArray();
        var labels = new[] { 0, 1, 0, 1 };
        for (int i = 0; i < 4; i++)
            for (int c = 0; c < 3; c++)
            {
                float want = i != r.Position ? (c == labels[i] ? 1 : 0) : (c == labels[i] ? 0.5f : 0) + (c == 2 ? 0.5f : 0);
                Assert.Equal(want, targets[i * 3 + c], 6);
            }
    }

    [Fact]
    public void Draws_DependOnSeedEpochAndBatchOnly()
    {
        var (samples, cache) = Photos(8);
        OldCutmixRecord[] Draw(int seed, int epoch, int batchIndex)
        {
            using var batch = BatchOf(samples, cache, 0, 1, 2, 3);
            return OldCutmix.Apply(batch, samples, [6, 7], [2, 2], cache, Options, 3, count: 2, seed, epoch, batchIndex);
        }
        var first = Draw(3, 1, 5);
        Assert.Equal(first, Draw(3, 1, 5));
        Assert.Equal(2, first.Select(r => r.Position).Distinct().Count());
        // Over many batches both old photos, both halves and every position come up.
        var many = Enumerable.Range(0, 40).SelectMany(b => Draw(3, 1, b)).ToArray();
        Assert.Equal([6, 7], many.Select(r => r.OldSample).Distinct().Order());
        Assert.Equal(2, many.Select(r => r.LeftHalf).Distinct().Count());
        Assert.Equal(4, many.Select(r => r.Position).Distinct().Count());
        Assert.NotEqual(Enumerable.Range(0, 40).SelectMany(b => Draw(4, 1, b)).ToArray(), many);
    }

    [Fact]
    public void ComposesWithExistingSoftTargets()
    {
        var (samples, cache) = Photos(8);
        using var batch = BatchOf(samples, cache, 0, 1, 2, 3);
        batch.SoftTargets = tensor(new float[] { 0.7f, 0.3f, 0, 0.7f, 0.3f, 0, 0, 1, 0, 0, 1, 0 }, new long[] { 4, 3 });
        var r = OldCutmix.Apply(batch, samples, [6], [2], cache, Options, 3, count: 4, seed: 1, epoch: 0, batchIndex: 0);
        Assert.Equal(4, r.Length);
        var t = batch.SoftTargets!.data<float>().ToArray();
        Assert.Equal(new[] { 0.35f, 0.15f, 0.5f }, t[..3]);
        for (int i = 0; i < 4; i++) Assert.Equal(1f, t[(i * 3)..(i * 3 + 3)].Sum(), 6);
    }

    [Fact]
    public void WithoutOldPhotos_OrTaskClasses_ItIsRefused()
    {
        var (samples, cache) = Photos(4);
        var e = Assert.Throws<MaskLabInputException>(() => OldCutmix.Transform(samples, [], s => s.Label, cache, Options, 3, 1, 0));
        Assert.Equal("cutmix_old needs 60+ photos in the training split, and it has none", e.Message);
        Assert.Null(OldCutmix.Transform(samples, [], s => s.Label, cache, Options, 3, 0, 0));
        Assert.Equal("cutmix_old 40 is not valid: must be 0..batch_size (32)",
            Assert.Throws<MaskLabInputException>(() => RunConfig.Load(null, ["cutmix_old=40"]).Validate()).Message);
    }

    [Fact]
    public void TrainingWithCutmixOld_RunsBesideTheWeightedSampler()
    {
        var config = RunConfig.Load(null, [$"data={TinySynthetic.Root}", "model=baseline", "image_size=24x32", "epochs=1", "batch_size=16",
            "warmup_epochs=0", "threads=2", "cutmix_old=2", "weighted_sampler=true", "cutmix=0.3"]).Validate();
        var data = TrainingData.Load(config.DataSection, SilentObserver.Instance, CancellationToken.None);
        var run = new RunDirectory(_dir.Combine("run"));
        run.Create();
        var result = new Trainer(config, run).Train(data, CancellationToken.None, resume: false);
        Assert.Equal(1, result.EpochsRun);
        Assert.True(double.IsFinite(run.ReadMetrics()[0].TrainLoss));
    }
}
