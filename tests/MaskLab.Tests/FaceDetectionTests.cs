using MaskLab.Data.Faces;
using MaskLab.Data.Loading;
using MaskLab.Synthetic;
using SkiaSharp;

namespace MaskLab.Tests;

/// <summary>Four synthetic people at the task's 384 x 512, generated once for the detector tests.</summary>
public static class FacePortraits
{
    public static readonly SynthOptions Options = new(People: 4, EvalPeople: 0, Seed: 5);

    static readonly Lazy<string> Folder = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), $"masklab-tests-faces-{Options.People}-{Options.Width}x{Options.Height}-{Options.Seed}");
        SyntheticGenerator.Generate(dir, Options);
        return dir;
    });

    public static string Root => Folder.Value;
}

/// <summary>Counts the photos a detector is asked about, so the tests see when the side file spares it.</summary>
sealed class CountingDetector(IFaceDetector inner) : IFaceDetector
{
    int _calls;

    public int Calls => _calls;
    public string Id => inner.Id;
    public int InputSide => inner.InputSide;

    public IReadOnlyList<FaceDetection> Detect(ReadOnlySpan<byte> rgb, int width, int height)
    {
        Interlocked.Increment(ref _calls);
        return inner.Detect(rgb, width, height);
    }

    public void Dispose() => inner.Dispose();
}

public sealed class FaceDetectionTests : IDisposable
{
    readonly ScratchDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // ---- decoding BlazeFace's outputs, by hand ------------------------------------------------------------

    [Fact]
    public void Anchors_FollowTheTwoGridsInOutputOrder()
    {
        var a = BlazeFaceDecoder.Anchors;
        Assert.Equal(16 * 16 * 2 + 8 * 8 * 6, a.Length);
        Assert.Equal((1 / 32f, 1 / 32f), a[0]);
        Assert.Equal((1 / 32f, 1 / 32f), a[1]);
        Assert.Equal((3 / 32f, 1 / 32f), a[2]); // next cell to the right
        Assert.Equal((1 / 32f, 3 / 32f), a[32]); // first cell of the second row
        Assert.Equal((3.5f / 16, 2.5f / 16), a[(2 * 16 + 3) * 2 + 1]); // cell x 3, y 2
        Assert.Equal((1 / 16f, 1 / 16f), a[512]); // the 8 x 8 grid starts
        Assert.Equal((1 / 16f, 1 / 16f), a[517]);
        Assert.Equal((15 / 16f, 15 / 16f), a[^1]);
    }

    [Fact]
    public void Decode_KeepsAnchorsAboveTheThreshold_AndOffsetsThemInInputPixels()
    {
        var logits = Enumerable.Repeat(-8f, 896).ToArray();
        var regressions = new float[896 * 16];
        logits[71] = 2f; // sigmoid 0.8808
        logits[600] = 0f; // 0.5: kept at threshold 0.5, dropped at 0.6
        float[] r71 = [12.8f, -6.4f, 25.6f, 38.4f];
        r71.CopyTo(regressions, 71 * 16);

        var found = BlazeFaceDecoder.Decode(logits, regressions, 0.5f);
        Assert.Equal(2, found.Count);
        var c = found[0];
        // Anchor (3.5/16, 2.5/16) = (0.21875, 0.15625); offsets 12.8 / 128 = 0.1 and -6.4 / 128 = -0.05.
        Assert.Equal(0.31875f, c.CenterX, 1e-6f);
        Assert.Equal(0.10625f, c.CenterY, 1e-6f);
        Assert.Equal(0.2f, c.Width, 1e-6f);
        Assert.Equal(0.3f, c.Height, 1e-6f);
        Assert.Equal(0.880797f, c.Score, 1e-5f);
        Assert.Equal(0.21875f, c.Box.X, 1e-6f);
        Assert.Equal(-0.04375f, c.Box.Y, 1e-6f);
        Assert.Single(BlazeFaceDecoder.Decode(logits, regressions, 0.6f));
        Assert.Throws<ArgumentException>(() => BlazeFaceDecoder.Decode(logits.AsSpan(1), regressions, 0.5f));
    }

    [Fact]
    public void Suppress_MergesOverlapsByScore_OrKeepsTheBestAlone()
    {
        var a = new BlazeFaceDecoder.Candidate(0.50f, 0.50f, 0.20f, 0.20f, 0.9f);
        var b = new BlazeFaceDecoder.Candidate(0.52f, 0.50f, 0.20f, 0.20f, 0.6f); // IoU with a: 0.18*0.2 / (0.08 - 0.036) = 0.818
        var far = new BlazeFaceDecoder.Candidate(0.10f, 0.10f, 0.10f, 0.10f, 0.7f);

        var weighted = BlazeFaceDecoder.Suppress([b, far, a], 0.3f, weighted: true);
        Assert.Equal(2, weighted.Count);
        // (0.5 * 0.9 + 0.52 * 0.6) / 1.5 = 0.508; the score stays the best one's.
        Assert.Equal(0.508f, weighted[0].CenterX, 1e-6f);
        Assert.Equal(0.5f, weighted[0].CenterY, 1e-6f);
        Assert.Equal(0.9f, weighted[0].Score);
        Assert.Equal(far, weighted[1]);

        Assert.Equal([a, far], BlazeFaceDecoder.Suppress([b, far, a], 0.3f, weighted: false));
        // Above the overlap bound nothing is merged.
        Assert.Equal([a, far, b], BlazeFaceDecoder.Suppress([b, far, a], 0.9f, weighted: false));
    }

    [Fact]
    public void Letterbox_CentresAPortrait_AndMapsBoxesBack()
    {
        // 96 x 128 fits at scale 1 with 16-pixel bars left and right.
        var fit = Letterbox.Of(96, 128, 128);
        Assert.Equal(new Letterbox(1f, 16f, 0f, 128), fit);
        Assert.Equal(new FaceBox(16, 32, 64, 64), fit.ToPicture(new FaceBox(0.25f, 0.25f, 0.5f, 0.5f)));
        // 384 x 512 fits at a quarter: the same unit box is four times larger, 64 pixels further right.
        Assert.Equal(new FaceBox(64, 128, 256, 256), Letterbox.Of(384, 512, 128).ToPicture(new FaceBox(0.25f, 0.25f, 0.5f, 0.5f)));

        var rgb = new byte[96 * 128 * 3];
        for (var i = 0; i < rgb.Length; i++) rgb[i] = (byte)(i % 251);
        var input = new float[128 * 128 * 3];
        fit.Fill(rgb, 96, 128, input);
        Assert.Equal(-1f, input[(5 * 128 + 15) * 3]); // bar
        Assert.Equal(-1f, input[(5 * 128 + 112) * 3 + 2]); // bar
        var pixel = (7 * 96 + 40) * 3 + 1;
        Assert.Equal(rgb[pixel] / 127.5f - 1, input[(7 * 128 + 56) * 3 + 1], 1e-6f);
    }

    // ---- the detector on painted portraits ----------------------------------------------------------------

    [Fact]
    public void BlazeFace_FindsThePaintedFaces_WhereTheTruthSays()
    {
        // The unmasked and wrongly masked photos of four people. The truth box is the whole face outline up to the
        // top of the forehead, BlazeFace's box stops near the brows, so a right box overlaps it by about 0.65; a
        // decoder off by a few anchors, with x and y swapped or sizes misread, falls far below.
        var photos = SyntheticFaceBoxes.Sample(FacePortraits.Root, perKind: 4, seed: 2).Where(p => p.Kind != "wear").ToArray();
        Assert.Equal(8, photos.Length);
        using var detector = new BlazeFaceDetector();
        var score = FaceDetectionMeasure.Measure(detector, photos);
        Assert.Equal(8, score.All.Photos);
        Assert.Equal(0, score.Unreadable);
        Assert.True(score.All.Hits >= 7, $"{score.All.Hits} of 8 photos had a face at IoU >= 0.5");
        Assert.InRange(score.All.MeanIoUFound, 0.55, 0.85);
        Assert.Equal(["incorrect", "none"], score.Kinds.Select(k => k.Kind).Order(StringComparer.Ordinal));

        // The measure can fail: the same faces scored against boxes moved aside are all misses.
        var moved = photos.Select(p => p with { Box = p.Box with { X = p.Box.X + 1.5f * p.Box.Width } }).ToArray();
        var off = FaceDetectionMeasure.Measure(detector, moved);
        Assert.Equal(0, off.All.Hits);
        Assert.Equal(score.All.Found, off.All.Found);
    }

    string WriteFlatPng(string name, int width, int height, byte grey)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        bitmap.Erase(new SKColor(grey, grey, grey));
        var path = Path.Combine(_dir.Root, name);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    [Fact]
    public void BoxStore_DetectsOnce_KeepsBoxesInTheSideFile_AndCountsPhotosWithoutAFace()
    {
        var photos = SyntheticFaceBoxes.Sample(FacePortraits.Root, perKind: 2, seed: 4).Where(p => p.Kind == "none").Select(p => p.Path).ToList();
        Assert.Equal(2, photos.Count);
        var blank = WriteFlatPng("blank.png", 384, 512, 128);
        var missing = Path.Combine(_dir.Root, "missing.jpg");
        using var detector = new CountingDetector(new BlazeFaceDetector());
        var side = FaceBoxStore.FileFor(_dir.Sub("cache"), detector.Id);
        Assert.EndsWith("face-boxes-blazeface-front128-s0.5-iou0.3w.csv", side);

        var counts = new System.Collections.Concurrent.ConcurrentQueue<int>();
        var first = FaceBoxStore.Ensure(side, [.. photos, blank, missing], detector, new Collect(counts));
        Assert.Equal(new FaceBoxReport(4, 4, 2, 1, 1, first.Report.Elapsed), first.Report);
        Assert.Equal(4, counts.Last());
        Assert.Equal(counts.Order(), counts);
        Assert.Equal(3, detector.Calls); // the missing file is never handed to the detector
        Assert.Null(first.ByPath[Path.GetFullPath(blank)]);
        Assert.False(first.ByPath.ContainsKey(Path.GetFullPath(missing)));
        Assert.True(File.Exists(side));

        // Again, with one new photo: only that one is detected; the rest come from the side file unchanged.
        var another = SyntheticFaceBoxes.Sample(FacePortraits.Root, perKind: 1, seed: 9).First(p => p.Kind == "incorrect").Path;
        var second = FaceBoxStore.Ensure(side, [.. photos, blank, another], detector);
        Assert.Equal(4, detector.Calls);
        Assert.Equal(1, second.Report.Detected);
        Assert.Equal(3, second.Report.Reused);
        foreach (var p in photos.Append(blank))
            Assert.Equal(first.ByPath[Path.GetFullPath(p)], second.ByPath[Path.GetFullPath(p)]);

        // The blank photo gets the centred fallback, counted as such.
        var cropper = new FaceCropper(second.ByPath, new FaceCropOptions());
        var rgb = new ImageCache(96, 128, crop: cropper).Get(blank).ToArray();
        Assert.All(rgb, v => Assert.Equal(128, v));
        new ImageCache(96, 128, crop: cropper).Get(photos[0]);
        Assert.Equal(new FaceCropCounts(Faces: 1, Fallbacks: 1, Undetected: 0), cropper.Counts);
    }

    /// <summary>Records every report where it is made (Progress&lt;T&gt; would post them later, elsewhere).</summary>
    sealed class Collect(System.Collections.Concurrent.ConcurrentQueue<int> into) : IProgress<int>
    {
        public void Report(int value) => into.Enqueue(value);
    }

    [Fact]
    public void BlankPicture_HasNoFace()
    {
        using var detector = new BlazeFaceDetector();
        Assert.Empty(detector.Detect(new byte[200 * 150 * 3], 200, 150));
        var e = Assert.Throws<MaskLabInputException>(() => new BlazeFaceDetector(new BlazeFaceOptions(ScoreThreshold: 1.2f)));
        Assert.StartsWith("face score threshold 1.2", e.Message);
    }
}

public sealed class FaceCropSetupTests : IDisposable
{
    readonly ScratchDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("none", FaceCropMode.None)]
    [InlineData(" Detect ", FaceCropMode.Detect)]
    public void Mode_Parses(string text, FaceCropMode expected) => Assert.Equal(expected, FaceCropSetup.ParseMode(text));

    [Fact]
    public void UnknownMode_IsRefusedNamingIt()
    {
        var e = Assert.Throws<MaskLabInputException>(() => FaceCropSetup.ParseMode("mtcnn"));
        Assert.Equal("face_crop 'mtcnn' must be none, detect or auto", e.Message);
    }

    [Fact]
    public void Prepare_GivesACacheThatCropsAroundTheFace_AndASecondCallDetectsNothing()
    {
        var photo = SyntheticFaceBoxes.Sample(FacePortraits.Root, perKind: 1, seed: 3).Single(p => p.Kind == "none");
        var folder = _dir.Sub("boxes");
        var (crop, report) = FaceCropSetup.Prepare([photo.Path], folder, new FaceCropOptions(Margin: 0.2));
        Assert.Equal((1, 1, 1, 0), (report.Photos, report.Detected, report.WithFace, report.WithoutFace));

        // The cached crop is the face: its pixels are those of the rectangle the crop names, resized.
        var rect = crop.CropFor(photo.Path, 384, 512, 96, 128);
        Assert.True(rect.Width < 384 && rect.Height < 512, rect.ToString());
        var truthCentre = (photo.Box.CenterX, photo.Box.CenterY);
        Assert.InRange(truthCentre.CenterX, rect.X, rect.Right);
        Assert.InRange(truthCentre.CenterY, rect.Y, rect.Bottom);
        var cropped = new ImageCache(96, 128, crop: crop).Get(photo.Path).ToArray();
        var whole = new ImageCache(96, 128).Get(photo.Path).ToArray();
        Assert.NotEqual(whole, cropped);

        var (_, again) = FaceCropSetup.Prepare([photo.Path], folder, new FaceCropOptions(Margin: 0.2));
        Assert.Equal((1, 0, 1), (again.Photos, again.Detected, again.WithFace));
    }
}
