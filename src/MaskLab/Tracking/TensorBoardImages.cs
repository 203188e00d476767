using MaskLab.Data.Faces;
using MaskLab.Data.Loading;
using SkiaSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Tracking;

/// <summary>
/// Pictures for TensorBoard's Images tab: the validation confusion matrix and a grid of validation photos with
/// truth and prediction, so a run can be judged by eye while it trains.
/// </summary>
internal static class TensorBoardImages
{
    public const int GridPhotos = 16;

    public static void Log(SummaryWriter writer, long[,] confusion, IReadOnlyList<string> classNames,
        IReadOnlyList<string> valPaths, IReadOnlyList<int> truth, int[] predicted, ImageCache cache, int step)
    {
        using (var heat = SKBitmap.Decode(ReportPlots.ConfusionHeatmap(confusion, classNames, 720)))
            Add(writer, "val/confusion", heat, step);
        using var grid = SampleGrid(valPaths, truth, predicted, classNames, cache);
        if (grid is not null) Add(writer, "val/samples", grid, step);
    }

    /// <summary>
    /// The first <see cref="GridPhotos"/> validation photos (the same ones every epoch, so epochs compare), each
    /// captioned with truth and prediction, green when right and red when wrong.
    /// </summary>
    public static SKBitmap? SampleGrid(IReadOnlyList<string> paths, IReadOnlyList<int> truth, int[] predicted,
        IReadOnlyList<string> classNames, ImageCache cache)
    {
        int count = Math.Min(GridPhotos, paths.Count);
        if (count == 0) return null;
        int cols = Math.Min(4, count), rows = (count + cols - 1) / cols;
        // Upscale small training sizes so the caption fits under each photo.
        int scale = Math.Max(1, 160 / Math.Max(cache.Width, 1));
        int w = cache.Width * scale, h = cache.Height * scale, caption = 34, pad = 4;
        var bmp = new SKBitmap((w + pad) * cols + pad, (h + caption + pad) * rows + pad, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var canvas = new SKCanvas(bmp);
        canvas.Clear(SKColors.White);
        using var font = new SKFont(SKTypeface.Default, 11);
        for (var i = 0; i < count; i++)
        {
            int x = pad + i % cols * (w + pad), y = pad + i / cols * (h + caption + pad);
            if (cache.TryGet(paths[i], out var rgb) || TryDecode(paths[i], cache, out rgb))
            {
                using var photo = FromRgb(rgb.Span, cache.Width, cache.Height);
                canvas.DrawBitmap(photo, new SKRect(x, y, x + w, y + h));
            }
            bool right = truth[i] == predicted[i];
            using var paint = new SKPaint { Color = right ? new SKColor(0, 120, 0) : new SKColor(190, 0, 0), IsAntialias = true };
            canvas.DrawText("true " + Short(classNames, truth[i]), x, y + h + 13, font, paint);
            canvas.DrawText("pred " + Short(classNames, predicted[i]), x, y + h + 27, font, paint);
        }
        return bmp;
    }

    static string Short(IReadOnlyList<string> names, int c) => c >= 0 && c < names.Count ? names[c] : c.ToString(System.Globalization.CultureInfo.InvariantCulture);

    static bool TryDecode(string path, ImageCache cache, out ReadOnlyMemory<byte> rgb)
    {
        var buffer = new byte[cache.BytesPerImage];
        bool ok = ImageDecoder.TryDecode(path, cache.Width, cache.Height, buffer, out _);
        rgb = buffer;
        return ok;
    }

    static SKBitmap FromRgb(ReadOnlySpan<byte> rgb, int width, int height)
    {
        var bmp = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var px = new byte[width * height * 4];
        for (int i = 0, j = 0; i < width * height; i++, j += 3)
        {
            px[i * 4] = rgb[j]; px[i * 4 + 1] = rgb[j + 1]; px[i * 4 + 2] = rgb[j + 2]; px[i * 4 + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(px, 0, bmp.GetPixels(), px.Length);
        return bmp;
    }

    static void Add(SummaryWriter writer, string tag, SKBitmap bmp, int step)
    {
        using var rgba = bmp.ColorType == SKColorType.Rgba8888 ? bmp.Copy() : bmp.Copy(SKColorType.Rgba8888);
        var bytes = rgba.Bytes;
        int h = rgba.Height, w = rgba.Width;
        var chw = new byte[3 * h * w];
        for (var i = 0; i < h * w; i++)
            for (var c = 0; c < 3; c++) chw[c * h * w + i] = bytes[i * 4 + c];
        using var t = tensor(chw, [3, h, w], ScalarType.Byte);
        writer.add_img(tag, t, step, dataformats: "CHW");
    }
}
