using System.Security.Cryptography;
using MaskLab.Data.Faces;
using MaskLab.Data.Loading;
using MaskLab.Synthetic;
using SkiaSharp;

namespace MaskLab.Tests;

public sealed class FaceCropTests : IDisposable
{
    readonly ScratchDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // ---- crop geometry, worked by hand --------------------------------------------------------------------

    [Fact]
    public void Crop_GrowsTheBoxByTheMargin_ThenWidensItToTheAspect()
    {
        // Box 100 x 120 centred at (200, 240); margin 0.25 each side: 150 x 180. Aspect 3:4 wants 150 / 180 = 0.83
        // to become 0.75, so the height grows to 150 / 0.75 = 200. Left 200 - 75 = 125, top 240 - 100 = 140.
        var crop = FaceCrop.Rectangle(384, 512, new FaceBox(150, 180, 100, 120), 0.75, new FaceCropOptions(Margin: 0.25));
        Assert.Equal(new CropRect(125, 140, 150, 200), crop);

        // A wide box widens the other way: 200 x 100 at margin 0 needs height 200 / 0.75 = 266.67 -> 267; centre
        // (200, 150): left 100, top 150 - 133.5 = 16.5 -> 17.
        Assert.Equal(new CropRect(100, 17, 200, 267),
            FaceCrop.Rectangle(384, 512, new FaceBox(100, 100, 200, 100), 0.75, new FaceCropOptions(Margin: 0)));
    }

    [Fact]
    public void Crop_IsSlidInsideThePhoto_AndShrunkWhenLargerThanIt()
    {
        // Box 40 x 40 at the corner, margin 0.5: 80 x 80, then 80 x 106.67 -> 80 x 107 centred at (20, 20):
        // left -20 and top -33.5 slide to 0.
        Assert.Equal(new CropRect(0, 0, 80, 107),
            FaceCrop.Rectangle(384, 512, new FaceBox(0, 0, 40, 40), 0.75, new FaceCropOptions(Margin: 0.5)));
        // The same at the far corner slides to 384 - 80 and 512 - 107.
        Assert.Equal(new CropRect(304, 405, 80, 107),
            FaceCrop.Rectangle(384, 512, new FaceBox(344, 472, 40, 40), 0.75, new FaceCropOptions(Margin: 0.5)));

        // 100 x 100 photo, box 80 x 80 at (10, 10), margin 0.5: 160 x 160, aspect 1:2 makes it 160 x 320; it fits
        // the photo at 100 / 320 = 0.3125 of that: 50 x 100, centred on x = 50: left 25.
        Assert.Equal(new CropRect(25, 0, 50, 100),
            FaceCrop.Rectangle(100, 100, new FaceBox(10, 10, 80, 80), 0.5, new FaceCropOptions(Margin: 0.5)));
    }

    [Fact]
    public void NoFace_GivesACentredCropOfTheAspect()
    {
        // The photo's own aspect: 0.8 of 384 x 512 is 307.2 x 409.6 -> 307 x 410, left 192 - 153.5 = 38.5 -> 39, top 51.
        Assert.Equal(new CropRect(39, 51, 307, 410), FaceCrop.Rectangle(384, 512, null, 0.75, new FaceCropOptions(FallbackFraction: 0.8)));
        // A square from a portrait: the largest is 384 x 384, centred 64 from the top.
        Assert.Equal(new CropRect(0, 64, 384, 384), FaceCrop.Rectangle(384, 512, null, 1.0, new FaceCropOptions(FallbackFraction: 1)));
        // An empty box counts as no face.
        Assert.Equal(new CropRect(0, 64, 384, 384),
            FaceCrop.Rectangle(384, 512, new FaceBox(10, 10, 0, 0), 1.0, new FaceCropOptions(FallbackFraction: 1)));
    }

    [Theory]
    [InlineData(-0.1, 0.8, "face margin -0.1")]
    [InlineData(0.3, 0, "face fallback fraction 0")]
    [InlineData(0.3, 1.5, "face fallback fraction 1.5")]
    public void BadOptions_AreRefusedNamingTheValue(double margin, double fallback, string expected)
    {
        var e = Assert.Throws<MaskLabInputException>(() => FaceCrop.Rectangle(384, 512, null, 0.75, new FaceCropOptions(margin, fallback)));
        Assert.StartsWith(expected, e.Message);
    }

    // ---- box files ----------------------------------------------------------------------------------------

    [Fact]
    public void BoxFile_RoundTripsEveryBit_WithAndWithoutScores()
    {
        FaceBoxRow[] rows =
        [
            new("train/images/000001_female_Asian_45/mask1.jpg", new FaceBox(86.98501f, 99.94832f, 161.92596f, 221.37389f), 0.93125f),
            new("/data/eval/images/a,b \"quoted\".jpg", null, null),
            new("eval/images/c.png", new FaceBox(0.1f, 1e-7f, 3.4e5f, 1f / 3), null),
        ];
        var withScore = Path.Combine(_dir.Root, "detected.csv");
        FaceBoxFile.Write(withScore, rows, withScore: true);
        Assert.Equal(rows, FaceBoxFile.Read(withScore));

        var truth = Path.Combine(_dir.Root, "truth.csv");
        FaceBoxFile.Write(truth, rows);
        Assert.StartsWith("path,x,y,w,h\n", File.ReadAllText(truth));
        Assert.Equal(rows.Select(r => r with { Score = null }), FaceBoxFile.Read(truth));
    }

    [Theory]
    [InlineData("path,x,y,w,h\na.jpg,1,2,3,four\n", "line 2: 'four' is not a number")]
    [InlineData("path,x,y,w,h\na.jpg,1,2,,\n", "line 2: x, y, w, h must all be given or all be empty")]
    [InlineData("path,x,y,w,h\na.jpg,1,2,-3,4\n", "line 2: a box has a negative width or height")]
    [InlineData("path,x,y,w\na.jpg,1,2,3\n", "lacks column h")]
    public void BadBoxFile_FailsOnOneLineNamingFileAndLine(string text, string expected)
    {
        var file = Path.Combine(_dir.Root, "bad.csv");
        File.WriteAllText(file, text);
        var e = Assert.Throws<MaskLabInputException>(() => FaceBoxFile.Read(file));
        Assert.Contains(file, e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    // ---- the image cache hook -----------------------------------------------------------------------------

    /// <summary>A fixed rectangle for every photo.</summary>
    sealed class FixedCrop(CropRect rect) : IPhotoCrop
    {
        public CropRect CropFor(string path, int photoWidth, int photoHeight, int targetWidth, int targetHeight) => rect;
    }

    /// <summary>Four flat quadrants: red top-left, green top-right, blue bottom-left, grey bottom-right.</summary>
    string WriteQuadrants(string name, int width, int height, SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        using (var paint = new SKPaint())
        {
            void Fill(SKColor c, int x, int y) { paint.Color = c; canvas.DrawRect(x, y, width / 2f, height / 2f, paint); }
            Fill(new SKColor(220, 30, 30), 0, 0);
            Fill(new SKColor(30, 200, 40), width / 2, 0);
            Fill(new SKColor(20, 40, 210), 0, height / 2);
            Fill(new SKColor(128, 128, 128), width / 2, height / 2);
        }
        var path = Path.Combine(_dir.Root, name);
        using var data = bitmap.Encode(format, 95);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    [Fact]
    public void CacheWithCrop_KeepsOnlyTheCroppedPart()
    {
        // PNG: the crop of the green quadrant, at its own size, is copied exactly.
        var png = WriteQuadrants("q.png", 40, 60, SKEncodedImageFormat.Png);
        var exact = new ImageCache(10, 20, crop: new FixedCrop(new CropRect(25, 5, 10, 20))).Get(png).ToArray();
        for (var i = 0; i < exact.Length; i += 3)
            Assert.Equal((byte[])[30, 200, 40], exact[i..(i + 3)]);

        // JPEG 384 x 512 read at a reduced scale: the crop (inside the blue quadrant) shrunk to 24 x 32 is blue,
        // where the same photo without a crop is all four colours.
        var jpeg = WriteQuadrants("q.jpg", 384, 512, SKEncodedImageFormat.Jpeg);
        var cropped = new ImageCache(24, 32, crop: new FixedCrop(new CropRect(20, 280, 150, 200))).Get(jpeg).ToArray();
        for (var i = 0; i < cropped.Length; i += 3)
        {
            Assert.InRange(cropped[i], 10, 30);
            Assert.InRange(cropped[i + 1], 30, 50);
            Assert.InRange(cropped[i + 2], 200, 220);
        }
        var whole = new ImageCache(24, 32).Get(jpeg).ToArray();
        Assert.InRange(whole[0], 200, 240); // top-left is red
        Assert.InRange(whole[^2], 110, 145); // bottom-right is grey
    }

    [Fact]
    public void CacheWithoutCrop_GivesThePixelsItGaveBeforeTheHook()
    {
        // Hashes of seven synthetic photos decoded by the cache as it was before the crop hook existed: at 96 x 128
        // (JPEG decoded at a quarter scale), 80 x 100 (resampled) and 384 x 512 (copied). Any change here changes
        // every earlier study's input.
        var set = _dir.Sub("set");
        SyntheticGenerator.Generate(set, new SynthOptions(People: 1, EvalPeople: 0, Seed: 3));
        var photos = Directory.GetFiles(Path.Combine(set, "train", "images"), "*", SearchOption.AllDirectories)
            .Where(f => !Path.GetFileName(f).StartsWith("._")).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(7, photos.Length);
        foreach (var (w, h, expected) in new[]
        {
            (96, 128, "e1580cb622f778a7da6209841aea21c5d71eb34655a99021b70ea2de262bc418"),
            (80, 100, "e35c6ad60e090ed1082bdbc6cbb1e086c0b006a22df1ee1738fe19d161289ec3"),
            (384, 512, "1ea2c265de113cc5af93fb801c51e4cfe986ab75cc873e2151930b5af6370991"),
        })
        {
            var cache = new ImageCache(w, h);
            using var sha = SHA256.Create();
            foreach (var p in photos)
            {
                var rgb = cache.Get(p).ToArray();
                sha.TransformBlock(rgb, 0, rgb.Length, null, 0);
            }
            sha.TransformFinalBlock([], 0, 0);
            Assert.Equal(expected, Convert.ToHexStringLower(sha.Hash!));
        }
    }

    [Fact]
    public void FaceCropper_CutsAroundTheBox_AndCountsFallbacks()
    {
        var face = Path.GetFullPath(Path.Combine(_dir.Root, "face.jpg"));
        var none = Path.GetFullPath(Path.Combine(_dir.Root, "none.jpg"));
        var unknown = Path.GetFullPath(Path.Combine(_dir.Root, "unknown.jpg"));
        var boxes = new Dictionary<string, FaceBox?> { [face] = new FaceBox(150, 180, 100, 120), [none] = null };
        var cropper = new FaceCropper(boxes, new FaceCropOptions(Margin: 0.25, FallbackFraction: 0.8));

        // The target's aspect (96 x 128 = 0.75) is the crop's, as in the hand-worked case above.
        Assert.Equal(new CropRect(125, 140, 150, 200), cropper.CropFor(face, 384, 512, 96, 128));
        Assert.Equal(new CropRect(125, 140, 150, 200), cropper.CropFor(face, 384, 512, 96, 128));
        Assert.Equal(new CropRect(39, 51, 307, 410), cropper.CropFor(none, 384, 512, 96, 128));
        Assert.Equal(new CropRect(39, 51, 307, 410), cropper.CropFor(unknown, 384, 512, 96, 128));
        Assert.Equal(new FaceCropCounts(Faces: 1, Fallbacks: 2, Undetected: 1), cropper.Counts);
    }
}
