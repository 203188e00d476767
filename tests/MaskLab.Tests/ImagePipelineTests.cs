using MaskLab.Data.Faces;
using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Platform;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Tests;

public sealed class ImagePipelineTests : IDisposable
{
    readonly string _dir;

    public ImagePipelineTests()
    {
        NativeSetup.Initialize();
        _dir = Path.Combine(Path.GetTempPath(), "masklab-pipeline-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    // ---- helpers ----------------------------------------------------------------------------------------

    delegate (byte R, byte G, byte B) Paint(int x, int y);

    string WriteImage(string name, int width, int height, Paint paint, SKEncodedImageFormat format = SKEncodedImageFormat.Png, int quality = 95)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var pixels = bitmap.GetPixelSpan();
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int i = y * bitmap.RowBytes + 4 * x;
                (pixels[i], pixels[i + 1], pixels[i + 2]) = paint(x, y);
                pixels[i + 3] = 255;
            }
        return Save(name, bitmap, format, quality);
    }

    string WriteGreyPng(string name, int width, int height, Func<int, int, byte> paint)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        var pixels = bitmap.GetPixelSpan();
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                pixels[y * bitmap.RowBytes + x] = paint(x, y);
        return Save(name, bitmap, SKEncodedImageFormat.Png, 100);
    }

    string Save(string name, SKBitmap bitmap, SKEncodedImageFormat format, int quality)
    {
        var path = Path.Combine(_dir, name);
        using var data = bitmap.Encode(format, quality);
        Assert.NotNull(data);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    static (byte R, byte G, byte B) Pixel(byte[] rgb, int width, int x, int y)
    {
        int i = (y * width + x) * 3;
        return (rgb[i], rgb[i + 1], rgb[i + 2]);
    }

    static (byte, byte, byte) Noise(int x, int y)
    {
        uint h = (uint)(x * 73856093 ^ y * 19349663);
        h ^= h >> 13;
        h *= 0x5bd1e995;
        return ((byte)h, (byte)(h >> 8), (byte)(h >> 16));
    }

    string Truncated(string name, string from, double keep)
    {
        var bytes = File.ReadAllBytes(from);
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes.AsSpan(0, (int)(bytes.Length * keep)).ToArray());
        return path;
    }

    // ---- decoding ---------------------------------------------------------------------------------------

    [Fact]
    public void Decode_gives_width_x_height_x_3_for_jpeg_png_and_grey_png()
    {
        var jpeg = WriteImage("red.jpg", 40, 30, (_, _) => (220, 30, 30), SKEncodedImageFormat.Jpeg);
        var png = WriteImage("blue.png", 40, 30, (_, _) => (10, 20, 230));
        var grey = WriteGreyPng("grey.png", 40, 30, (_, _) => 77);

        var fromJpeg = ImageDecoder.Decode(jpeg, 16, 12);
        var fromPng = ImageDecoder.Decode(png, 16, 12);
        var fromGrey = ImageDecoder.Decode(grey, 16, 12);

        Assert.All(new[] { fromJpeg, fromPng, fromGrey }, rgb => Assert.Equal(16 * 12 * 3, rgb.Length));
        var (r, g, b) = Pixel(fromJpeg, 16, 8, 6);
        Assert.InRange(r, 200, 240);
        Assert.InRange(g, 10, 50);
        Assert.InRange(b, 10, 50);
        Assert.Equal(((byte)10, (byte)20, (byte)230), Pixel(fromPng, 16, 3, 9));
        Assert.Equal(((byte)77, (byte)77, (byte)77), Pixel(fromGrey, 16, 15, 11));
    }

    [Fact]
    public void Decode_changes_aspect_to_the_target_and_handles_alpha()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(30, 40, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(new SKColor(200, 100, 50, 255));
        for (int y = 0; y < 40; y++) bitmap.SetPixel(0, y, new SKColor(255, 255, 255, 0));
        var path = Save("alpha.png", bitmap, SKEncodedImageFormat.Png, 100);

        var rgb = ImageDecoder.Decode(path, 20, 10);

        Assert.Equal(20 * 10 * 3, rgb.Length);
        Assert.Equal(((byte)200, (byte)100, (byte)50), Pixel(rgb, 20, 10, 5));
    }

    [Fact]
    public void Upscaled_gradient_stays_smooth_without_nearest_neighbour_steps()
    {
        // 25 px -> 100 px: nearest neighbour would repeat each value 4 times and then jump by ~40.
        var path = WriteImage("gradient.png", 25, 4, (x, _) => ((byte)(x * 10), (byte)(x * 10), (byte)(x * 10)));
        var rgb = ImageDecoder.Decode(path, 100, 4);

        int flat = 0, maxStep = 0;
        for (int x = 8; x < 92; x++)
        {
            int step = Pixel(rgb, 100, x + 1, 2).R - Pixel(rgb, 100, x, 2).R;
            Assert.True(step >= -1, $"gradient goes back at x={x} by {step}");
            if (step == 0) flat++;
            maxStep = Math.Max(maxStep, step);
        }
        Assert.True(maxStep <= 5, $"largest step {maxStep}: blocky resize");
        Assert.True(flat <= 10, $"{flat} flat steps of 84: blocky resize");
    }

    [Fact]
    public void Large_reductions_average_fine_detail_instead_of_aliasing()
    {
        // A one-pixel checkerboard reduced 8x must come out mid grey; point sampling gives black or white.
        var png = WriteImage("checker.png", 256, 256, (x, y) =>
        {
            byte v = (x + y) % 2 == 0 ? (byte)255 : (byte)0;
            return (v, v, v);
        });
        var rgb = ImageDecoder.Decode(png, 32, 32);
        for (int i = 0; i < rgb.Length; i++) Assert.InRange(rgb[i], 90, 165);

        // The JPEG path decodes at a reduced DCT scale first; a smooth vertical gradient stays smooth.
        var jpeg = WriteImage("portrait.jpg", 384, 512, (_, y) => ((byte)(y / 2), (byte)(y / 2), (byte)(y / 2)), SKEncodedImageFormat.Jpeg);
        var small = ImageDecoder.Decode(jpeg, 96, 128);
        for (int y = 2; y < 125; y++)
        {
            int step = Pixel(small, 96, 48, y + 1).G - Pixel(small, 96, 48, y).G;
            Assert.InRange(step, -1, 4);
        }
    }

    [Fact]
    public void Bad_files_are_listed_by_preload_and_decoding_them_throws_naming_the_file()
    {
        var good = WriteImage("good.jpg", 64, 64, Noise, SKEncodedImageFormat.Jpeg);
        var truncatedJpeg = Truncated("truncated.jpg", good, 0.6);
        var truncatedPng = Truncated("truncated.png", WriteImage("full.png", 64, 64, Noise), 0.6);
        var text = Path.Combine(_dir, "notes.jpg");
        File.WriteAllText(text, "this is not an image at all");
        var empty = Path.Combine(_dir, "empty.png");
        File.WriteAllBytes(empty, []);
        var missing = Path.Combine(_dir, "missing.png");

        var cache = new ImageCache(16, 16);
        var reports = new List<int>();
        var bad = cache.Preload([good, truncatedJpeg, text, truncatedPng, empty, missing], new SyncProgress(reports.Add));

        Assert.Equal([truncatedJpeg, text, truncatedPng, empty, missing], bad.Select(b => b.Path));
        Assert.Contains("truncated", bad[0].Reason);
        Assert.Contains("not an image", bad[1].Reason);
        Assert.Contains("truncated", bad[2].Reason);
        Assert.Contains("empty", bad[3].Reason);
        Assert.Contains("not found", bad[4].Reason);
        Assert.True(cache.Contains(good));
        Assert.Equal(1, cache.Count);
        Assert.Equal(6, reports[^1]);

        foreach (var path in new[] { truncatedJpeg, text })
        {
            var e = Assert.Throws<MaskLabInputException>(() => ImageDecoder.Decode(path, 16, 16));
            Assert.Contains(path, e.Message);
            e = Assert.Throws<MaskLabInputException>(() => cache.Get(path));
            Assert.Contains(path, e.Message);
        }
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.98)]
    public void Truncated_jpeg_is_detected_wherever_it_is_cut(double keep)
    {
        var good = WriteImage("photo.jpg", 384, 512, Noise, SKEncodedImageFormat.Jpeg);
        var cut = Truncated($"cut-{keep}.jpg", good, keep);
        var bad = new ImageCache(96, 128).Preload([good, cut]);
        Assert.Equal(cut, Assert.Single(bad).Path);
        Assert.Contains("truncated", bad[0].Reason);
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the pool, racing the assertions).</summary>
    sealed class SyncProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }

    [Fact]
    public void Cache_decodes_once_and_over_budget_still_serves_without_keeping()
    {
        var path = WriteImage("a.png", 20, 10, Noise);
        var cache = new ImageCache(8, 4);
        var first = cache.Get(path);
        Assert.True(cache.TryGet(path, out var again));
        Assert.True(first.Span.SequenceEqual(again.Span));
        Assert.Equal(8 * 4 * 3, cache.CachedBytes);

        var tiny = new ImageCache(8, 4, maxBytes: 0);
        Assert.Empty(tiny.Preload([path]));
        Assert.Equal(0, tiny.Count);
        Assert.True(tiny.Get(path).Span.SequenceEqual(first.Span));
        Assert.Equal(0, tiny.Count);
    }

    // ---- augmentation -----------------------------------------------------------------------------------

    static byte[] RandomRgb(int width, int height, int seed)
    {
        var rgb = new byte[width * height * 3];
        new Random(seed).NextBytes(rgb);
        return rgb;
    }

    [Fact]
    public void Flip_moves_pixel_x_y_to_width_minus_1_minus_x_y()
    {
        const int W = 5, H = 3;
        var rgb = RandomRgb(W, H, 1);
        var flipped = new byte[rgb.Length];
        Augmentation.FlipHorizontal(rgb, flipped, W, H);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                Assert.Equal(Pixel(rgb, W, x, y), Pixel(flipped, W, W - 1 - x, y));

        var chw = Enumerable.Range(0, 3 * H * W).Select(i => (float)i).ToArray();
        var chwFlipped = new float[chw.Length];
        Augmentation.FlipHorizontal(chw, chwFlipped, 3, W, H);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    Assert.Equal(chw[(c * H + y) * W + x], chwFlipped[(c * H + y) * W + W - 1 - x]);

        // The augmentation's flip (folded into its sampling) is the same mirror.
        var viaAugment = new float[3 * W * H];
        Augmentation.Apply(rgb, W, H, viaAugment, W, H, AugmentOptions.None with { FlipProbability = 1 }, ImageNormalization.Task, 0, 0, 0);
        var viaFlip = new float[3 * W * H];
        Augmentation.Normalize(flipped, W, H, viaFlip, ImageNormalization.Task);
        Assert.Equal(viaFlip, viaAugment);
    }

    [Fact]
    public void Augmentation_is_deterministic_per_seed_epoch_index_and_varies_otherwise()
    {
        const int W = 24, H = 32;
        var rgb = RandomRgb(W, H, 2);
        float[] Run(int seed, int epoch, int index)
        {
            var output = new float[3 * W * H];
            Augmentation.Apply(rgb, W, H, output, W, H, AugmentOptions.Default, ImageNormalization.Task, seed, epoch, index);
            return output;
        }

        Assert.Equal(Run(7, 3, 11), Run(7, 3, 11));
        Assert.NotEqual(Run(7, 3, 11), Run(7, 4, 11));
        Assert.NotEqual(Run(7, 3, 11), Run(7, 3, 12));
        Assert.NotEqual(Run(7, 3, 11), Run(8, 3, 11));

        // Across many images about half flip, and crops stay inside the image.
        int flips = 0;
        for (int i = 0; i < 400; i++)
        {
            var d = Augmentation.Draw(AugmentOptions.Default, W, H, 7, 0, i);
            if (d.Flip) flips++;
            Assert.InRange(d.CropX, 0, W - d.CropWidth + 1e-9);
            Assert.InRange(d.CropY, 0, H - d.CropHeight + 1e-9);
            Assert.InRange(d.CropWidth * d.CropHeight / (W * H), 0.8 / 1.1 - 1e-9, 1.0 + 1e-9);
            Assert.InRange(d.Brightness, 0.8f, 1.2f);
        }
        Assert.InRange(flips, 160, 240);
    }

    [Fact]
    public void Normalising_a_known_colour_gives_the_expected_floats()
    {
        const int W = 6, H = 4;
        var rgb = new byte[W * H * 3];
        for (int i = 0; i < W * H; i++) (rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]) = ((byte)255, (byte)128, (byte)0);
        var output = new float[3 * W * H];
        Augmentation.Normalize(rgb, W, H, output, ImageNormalization.Task);

        float r = (1f - 0.548f) / 0.237f, g = (128f / 255f - 0.504f) / 0.247f, b = (0f - 0.479f) / 0.246f;
        for (int i = 0; i < W * H; i++)
        {
            Assert.Equal(r, output[i], 1e-5f);
            Assert.Equal(g, output[W * H + i], 1e-5f);
            Assert.Equal(b, output[2 * W * H + i], 1e-5f);
        }

        // Colour jitter on a flat colour keeps it flat, and a crop of a flat image is the same colour.
        Augmentation.Apply(rgb, W, H, output, W, H, AugmentOptions.Default with { Brightness = 0, Saturation = 0 },
            ImageNormalization.Task, 1, 1, 1);
        Assert.All(output.AsSpan(0, W * H).ToArray(), v => Assert.Equal(r, v, 1e-4f));
    }

    // ---- loader -----------------------------------------------------------------------------------------

    (List<Sample> Samples, ImageCache Cache) MakeSet(int count, int width = 12, int height = 16)
    {
        var samples = new List<Sample>();
        for (int i = 0; i < count; i++)
        {
            byte v = (byte)(i * 9);
            var path = WriteImage($"s{i:D3}.png", width, height, (_, _) => (v, v, v));
            samples.Add(new Sample(path, i % 18, $"p{i}"));
        }
        var cache = new ImageCache(width, height);
        Assert.Empty(cache.Preload(samples.Select(s => s.Path).ToArray()));
        return (samples, cache);
    }

    static LoaderOptions Options(int batch, bool shuffle = true, bool dropLast = false, int seed = 5) =>
        new(batch, shuffle, AugmentOptions.Default, seed, dropLast, 12, 16);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Loader_covers_each_index_once_with_right_shapes_types_and_labels(bool dropLast)
    {
        var (samples, cache) = MakeSet(25);
        int[] indices = Enumerable.Range(2, 23).ToArray(); // 23 of 25, batch 5: 4 full batches and one of 3
        var loader = new BatchLoader(samples, indices, s => s.Label, cache, Options(5, dropLast: dropLast));

        var seen = new List<int>();
        int batches = 0;
        foreach (var batch in loader.Epoch(0))
        {
            using (batch)
            {
                batches++;
                int n = batch.Count;
                Assert.Equal(new long[] { n, 3, 16, 12 }, batch.Images.shape);
                Assert.Equal(ScalarType.Float32, batch.Images.dtype);
                Assert.Equal(new long[] { n }, batch.Labels.shape);
                Assert.Equal(ScalarType.Int64, batch.Labels.dtype);
                var labels = batch.Labels.data<long>().ToArray();
                for (int i = 0; i < n; i++) Assert.Equal(samples[batch.SampleIndices[i]].Label, labels[i]);
                Assert.Null(batch.SoftTargets);
                seen.AddRange(batch.SampleIndices);
            }
        }

        Assert.Equal(loader.BatchCount, batches);
        if (dropLast)
        {
            Assert.Equal(4, batches);
            Assert.Equal(20, seen.Count);
            Assert.Equal(20, seen.Distinct().Count());
            Assert.All(seen, i => Assert.Contains(i, indices));
        }
        else
        {
            Assert.Equal(5, batches);
            Assert.Equal(indices, seen.Order());
        }
    }

    [Fact]
    public void Loader_writes_normalised_pixels_into_the_batch_tensor()
    {
        var (samples, cache) = MakeSet(3);
        var loader = new BatchLoader(samples, [0, 1, 2], s => s.Label, cache, LoaderOptions.ForEvaluation(2, 12, 16));
        var batches = loader.Epoch(0).ToList();
        try
        {
            Assert.Equal([0, 1], batches[0].SampleIndices);
            Assert.Equal([2], batches[1].SampleIndices);
            var pixels = batches[1].Images.data<float>().ToArray();
            float v = 18 / 255f; // sample 2 is grey 18
            Assert.Equal((v - 0.548f) / 0.237f, pixels[0], 1e-5f);
            Assert.Equal((v - 0.504f) / 0.247f, pixels[16 * 12 + 5], 1e-5f);
            Assert.Equal((v - 0.479f) / 0.246f, pixels[^1], 1e-5f);
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
        }
    }

    [Fact]
    public void Shuffle_differs_across_epochs_and_repeats_for_the_same_seed()
    {
        var (samples, cache) = MakeSet(20);
        int[] all = Enumerable.Range(0, 20).ToArray();
        var loader = new BatchLoader(samples, all, s => s.Label, cache, Options(6));
        var twin = new BatchLoader(samples, all, s => s.Label, cache, Options(6));
        var other = new BatchLoader(samples, all, s => s.Label, cache, Options(6, seed: 6));

        Assert.Equal(loader.Order(0), twin.Order(0));
        Assert.NotEqual(loader.Order(0), loader.Order(1));
        Assert.NotEqual(loader.Order(0), other.Order(0));
        Assert.Equal(all, loader.Order(0).Order());

        int[] Visit(BatchLoader l, int epoch, out float[] firstImages)
        {
            var order = new List<int>();
            firstImages = [];
            foreach (var b in l.Epoch(epoch))
                using (b)
                {
                    if (order.Count == 0) firstImages = b.Images.data<float>().ToArray();
                    order.AddRange(b.SampleIndices);
                }
            return order.ToArray();
        }

        var once = Visit(loader, 2, out var imagesOnce);
        var twice = Visit(twin, 2, out var imagesTwice);
        Assert.Equal(once, twice);
        Assert.Equal(imagesOnce, imagesTwice);
        Assert.NotEqual(once, Visit(loader, 3, out _));

        var unshuffled = new BatchLoader(samples, all, s => s.Label, cache, Options(6, shuffle: false));
        Assert.Equal(all, Visit(unshuffled, 9, out _));
    }

    [Fact]
    public void Leaving_an_epoch_early_stops_the_producer_and_disposes_unclaimed_batches()
    {
        var (samples, cache) = MakeSet(40);
        var made = new List<Batch>();
        var options = Options(2) with
        {
            Prefetch = 2,
            Transform = (batch, _, _) => { lock (made) made.Add(batch); },
        };
        var loader = new BatchLoader(samples, Enumerable.Range(0, 40).ToArray(), s => s.Label, cache, options);

        using (var epoch = loader.Epoch(0).GetEnumerator())
        {
            Assert.True(epoch.MoveNext());
            epoch.Current.Dispose();
            Assert.True(epoch.MoveNext());
            epoch.Current.Dispose();
            Thread.Sleep(100); // let the producer fill its queue
        }

        int count;
        lock (made) count = made.Count;
        Assert.InRange(count, 2, 2 + options.Prefetch + 1);
        Assert.All(made, b => Assert.True(b.Images.IsInvalid, "a batch nobody took was not disposed"));
        Thread.Sleep(100);
        lock (made) Assert.Equal(count, made.Count); // nothing runs on after the enumerator is gone

        // A consumer that throws also stops it, and the loader can start a new epoch afterwards.
        Assert.Throws<InvalidOperationException>(() =>
        {
            foreach (var b in loader.Epoch(1))
                using (b) throw new InvalidOperationException("step failed");
        });
        int batches = 0;
        foreach (var b in loader.Epoch(2)) using (b) batches++;
        Assert.Equal(20, batches);
    }

    [Fact]
    public void A_bad_uncached_image_surfaces_from_the_epoch_naming_the_file()
    {
        var (samples, cache) = MakeSet(4);
        var bad = Path.Combine(_dir, "broken.jpg");
        File.WriteAllText(bad, "nope");
        samples.Add(new Sample(bad, 0, "p-bad"));
        var loader = new BatchLoader(samples, [0, 1, 2, 3, 4], s => s.Label, cache, LoaderOptions.ForEvaluation(2, 12, 16));

        int good = 0;
        var e = Assert.Throws<MaskLabInputException>(() =>
        {
            foreach (var b in loader.Epoch(0)) using (b) good += b.Count;
        });
        Assert.Contains(bad, e.Message);
        Assert.Equal(4, good);
    }

    [Fact]
    public void Soft_targets_belong_to_the_batch()
    {
        var (samples, cache) = MakeSet(4);
        Tensor? soft = null;
        var options = Options(4) with
        {
            Transform = (batch, _, _) => batch.SoftTargets = soft = zeros(batch.Count, 18),
        };
        var loader = new BatchLoader(samples, [0, 1, 2, 3], s => s.Label, cache, options);
        foreach (var b in loader.Epoch(0))
            using (b)
                Assert.Equal(new long[] { 4, 18 }, b.SoftTargets!.shape);
        Assert.True(soft!.IsInvalid);
    }
}
