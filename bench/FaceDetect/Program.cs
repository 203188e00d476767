using System.Globalization;
using System.Text.Json;
using MaskLab;
using MaskLab.Data.Faces;
using MaskLab.Synthetic;
using SkiaSharp;

// FaceDetect SETDIR [--per-kind N] [--threshold S] [--sheet FILE.png] [--margin M]
// Scores BlazeFace on N train photos of each mask state of a synthetic set (generated first if SETDIR does not
// hold one) and prints one table line per kind and a JSON line; --sheet draws truth (green), detection (red) and
// the face crop (blue) on a few photos of each kind.
var inv = CultureInfo.InvariantCulture;
if (args.Length == 0 || args[0].StartsWith('-'))
{
    Console.Error.WriteLine("usage: FaceDetect SETDIR [--per-kind N] [--threshold S] [--sheet FILE.png] [--margin M]");
    return 2;
}
var setDir = args[0];
int perKind = 200;
float threshold = 0.5f;
double margin = 0.3;
string? sheet = null;
for (var i = 1; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--per-kind": perKind = int.Parse(args[++i], inv); break;
        case "--threshold": threshold = float.Parse(args[++i], inv); break;
        case "--sheet": sheet = args[++i]; break;
        case "--margin": margin = double.Parse(args[++i], inv); break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}

try
{
    if (!File.Exists(Path.Combine(setDir, SyntheticGenerator.MarkerFile)))
    {
        var people = perKind + perKind / 10 + 10; // one incorrect-mask photo a person
        Console.WriteLine($"generating a synthetic set of {people} train people in {setDir}");
        SyntheticGenerator.Generate(setDir, new SynthOptions(People: people, EvalPeople: 0, Seed: 42));
    }
    var photos = SyntheticFaceBoxes.Sample(setDir, perKind, seed: 1);
    using var detector = new BlazeFaceDetector(new BlazeFaceOptions(ScoreThreshold: threshold));
    PhotoFaces.Detect(detector, photos[0].Path); // load and warm up outside the timing
    var score = FaceDetectionMeasure.Measure(detector, photos);
    Console.WriteLine($"{score.Detector}: {score.Threads} threads, {score.PhotosPerSecond:F1} photos/s (decode + detect), unreadable {score.Unreadable}");
    Console.WriteLine("kind       photos  found  hits  hit-rate  mean-IoU  mean-IoU(found)");
    foreach (var k in score.Kinds.Append(score.All))
        Console.WriteLine(string.Create(inv, $"{k.Kind,-10} {k.Photos,6} {k.Found,6} {k.Hits,5}  {k.HitRate,8:F3}  {k.MeanIoU,8:F3}  {k.MeanIoUFound,8:F3}"));
    Console.WriteLine(JsonSerializer.Serialize(score));
    if (sheet is not null) DrawSheet(sheet, detector, photos, new FaceCropOptions(Margin: margin));
    return 0;
}
catch (MaskLabInputException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

static void DrawSheet(string file, IFaceDetector detector, IReadOnlyList<FaceTruth> photos, FaceCropOptions crop)
{
    const int perKind = 6, cellW = 192, cellH = 256;
    var rows = photos.GroupBy(p => p.Kind).Select(g => g.Take(perKind).ToArray()).ToArray();
    using var surface = new SKBitmap(cellW * perKind, cellH * rows.Length);
    using var canvas = new SKCanvas(surface);
    canvas.Clear(SKColors.White);
    using var pen = new SKPaint { Style = SKPaintStyle.Stroke, StrokeWidth = 2, IsAntialias = true };
    for (var r = 0; r < rows.Length; r++)
        for (var c = 0; c < rows[r].Length; c++)
        {
            var p = rows[r][c];
            using var photo = SKBitmap.Decode(p.Path);
            var s = Math.Min((float)cellW / photo.Width, (float)cellH / photo.Height);
            canvas.Save();
            canvas.Translate(c * cellW, r * cellH);
            canvas.Scale(s);
            canvas.DrawBitmap(photo, 0, 0);
            var found = PhotoFaces.Detect(detector, p.Path).Best;
            var cut = FaceCrop.Rectangle(photo.Width, photo.Height, found?.Box, 96 / 128.0, crop);
            pen.StrokeWidth = 2 / s;
            pen.Color = SKColors.Lime;
            canvas.DrawRect(p.Box.X, p.Box.Y, p.Box.Width, p.Box.Height, pen);
            if (found is { } f)
            {
                pen.Color = SKColors.Red;
                canvas.DrawRect(f.Box.X, f.Box.Y, f.Box.Width, f.Box.Height, pen);
            }
            pen.Color = SKColors.Blue;
            canvas.DrawRect(cut.X, cut.Y, cut.Width, cut.Height, pen);
            canvas.Restore();
        }
    using var data = surface.Encode(SKEncodedImageFormat.Png, 100);
    File.WriteAllBytes(file, data.ToArray());
    Console.WriteLine($"wrote {file}");
}
