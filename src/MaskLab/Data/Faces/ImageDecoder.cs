using SkiaSharp;

namespace MaskLab.Data.Faces;

/// <summary>
/// Reads an image file into RGB bytes (HWC, row-major, 3 bytes a pixel) resized straight to a target size, as
/// torchvision's <c>Resize((h, w))</c> does: the aspect ratio follows the target, nothing is cropped.
/// </summary>
/// <remarks>
/// <para>SKCodec rather than SKBitmap.Decode: the codec's result tells a truncated file (IncompleteInput) apart
/// from a whole one, where a bitmap decode would hand back a partly grey picture as if it were fine.</para>
/// <para>Any colour type (grey, palette, 16-bit, CMYK JPEG) is converted by the codec to RGBA. Transparent
/// pixels are premultiplied, which is compositing over black, and the alpha is then dropped.</para>
/// <para>The EXIF orientation is not applied, as PIL's <c>Image.open</c> (and so the task's baseline) does not.</para>
/// </remarks>
public static class ImageDecoder
{
    /// <summary>Above this many pixels a file is refused rather than risking gigabytes for one photo.</summary>
    public const long MaxSourcePixels = 200_000_000;

    /// <summary>Decodes <paramref name="path"/> to <paramref name="width"/> x <paramref name="height"/> RGB bytes.</summary>
    /// <exception cref="MaskLabInputException">The file is missing, unreadable, not an image, truncated or corrupt.</exception>
    public static byte[] Decode(string path, int width, int height)
    {
        var rgb = new byte[checked(width * height * 3)];
        Decode(path, width, height, rgb);
        return rgb;
    }

    /// <summary>Decodes into <paramref name="destination"/>, which holds <c>width * height * 3</c> bytes.</summary>
    /// <exception cref="MaskLabInputException">The file is missing, unreadable, not an image, truncated or corrupt.</exception>
    public static void Decode(string path, int width, int height, Span<byte> destination)
    {
        if (!TryDecode(path, width, height, destination, out var reason))
            throw new MaskLabInputException($"cannot read image '{path}': {reason}");
    }

    /// <summary>
    /// Decodes into <paramref name="destination"/>; on a bad file returns false with a one-line
    /// <paramref name="reason"/> (no exception, so that scanning thousands of files stays cheap).
    /// </summary>
    public static bool TryDecode(string path, int width, int height, Span<byte> destination, out string reason) =>
        TryDecode(path, width, height, destination, null, out reason);

    /// <summary>
    /// As <see cref="TryDecode(string, int, int, Span{byte}, out string)"/>, resizing only the part of the photo that
    /// <paramref name="crop"/> chooses; with no crop, the whole photo exactly as that overload does.
    /// </summary>
    public static bool TryDecode(string path, int width, int height, Span<byte> destination, IPhotoCrop? crop, out string reason)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (destination.Length < width * height * 3)
            throw new ArgumentException($"destination holds {destination.Length} bytes, {width}x{height} RGB needs {width * height * 3}", nameof(destination));

        if (!CanOpen(path, out reason)) return false;
        try
        {
            return DecodeExisting(path, width, height, destination, crop, out reason);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reason = $"cannot open: {e.Message}";
            return false;
        }
    }

    /// <summary>
    /// Whether <paramref name="path"/> is a regular file of a photo's size that a decoder may open; else why not. A FIFO
    /// named like a photo would block the decoder forever, a device would never end.
    /// </summary>
    internal static bool CanOpen(string path, out string reason)
    {
        reason = "";
        if (!File.Exists(path))
        {
            reason = Directory.Exists(path) ? "is a folder, not a file" : "file not found";
            return false;
        }
        if (InputFile.Problem(path, InputFile.MaxPhotoBytes) is { } problem)
        {
            reason = problem;
            return false;
        }
        return true;
    }

    static bool DecodeExisting(string path, int width, int height, Span<byte> destination, IPhotoCrop? crop, out string reason)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        if (stream.Length == 0)
        {
            reason = "file is empty";
            return false;
        }

        using var codec = SKCodec.Create(stream, out var openResult);
        if (codec is null)
        {
            reason = openResult switch
            {
                SKCodecResult.IncompleteInput => "truncated file (incomplete image data)",
                SKCodecResult.Unimplemented or SKCodecResult.InvalidInput or SKCodecResult.Success =>
                    "not an image in a format that can be read (JPEG, PNG, BMP, GIF, WebP)",
                _ => $"cannot decode ({openResult})",
            };
            return false;
        }

        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0)
        {
            reason = $"image has no pixels ({info.Width}x{info.Height})";
            return false;
        }
        if ((long)info.Width * info.Height > MaxSourcePixels)
        {
            reason = $"image is {info.Width}x{info.Height}, larger than {MaxSourcePixels / 1_000_000} megapixels";
            return false;
        }

        var region = crop?.CropFor(path, info.Width, info.Height, width, height) ?? new CropRect(0, 0, info.Width, info.Height);
        if (region.Width <= 0 || region.Height <= 0 || region.X < 0 || region.Y < 0 || region.Right > info.Width || region.Bottom > info.Height)
            throw new InvalidOperationException($"crop {region} lies outside the {info.Width}x{info.Height} photo '{path}'");

        // JPEG can decode at 1/8 .. 8/8 scale inside the DCT, which is several times faster than a full decode
        // and box-filters as it goes. Ask for the smallest such size at which the region still covers at least
        // the target in both axes.
        var decodeSize = new SKSizeI(info.Width, info.Height);
        float scale = Math.Max((float)width / region.Width, (float)height / region.Height);
        if (scale < 1f && crop is null)
        {
            var scaled = codec.GetScaledDimensions(scale);
            if (scaled.Width >= width && scaled.Height >= height && scaled.Width <= info.Width && scaled.Height <= info.Height)
                decodeSize = scaled;
        }
        else if (scale < 1f)
        {
            // The codec rounds a requested scale to one it supports, possibly below it: try them from the smallest up.
            for (var eighths = 1; eighths < 8; eighths++)
            {
                if (eighths / 8f < scale * 0.9f) continue;
                var scaled = codec.GetScaledDimensions(eighths / 8f);
                if (scaled.Width > info.Width || scaled.Height > info.Height) break;
                var r = RegionAt(region, info, scaled);
                if (r.Width >= width && r.Height >= height)
                {
                    decodeSize = scaled;
                    break;
                }
            }
        }

        var decodeInfo = new SKImageInfo(decodeSize.Width, decodeSize.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var decoded = new SKBitmap(decodeInfo);
        var result = codec.GetPixels(decodeInfo, decoded.GetPixels());
        if (result != SKCodecResult.Success)
        {
            reason = result switch
            {
                SKCodecResult.IncompleteInput => "truncated file (incomplete image data)",
                SKCodecResult.ErrorInInput => "corrupt image data",
                _ => $"cannot decode ({result})",
            };
            return false;
        }

        if (crop is not null)
        {
            var r = RegionAt(region, info, decodeSize);
            using var part = new SKBitmap();
            if (!decoded.ExtractSubset(part, SKRectI.Create(r.X, r.Y, r.Width, r.Height)))
            {
                reason = $"cannot crop {r} of {decodeSize.Width}x{decodeSize.Height}";
                return false;
            }
            if (r.Width == width && r.Height == height)
            {
                CopyRgb(part, destination);
            }
            else
            {
                using var resized = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
                if (!part.ScalePixels(resized, SamplingFor(r.Width, r.Height, width, height)))
                {
                    reason = $"cannot resize the crop {r} to {width}x{height}";
                    return false;
                }
                CopyRgb(resized, destination);
            }
        }
        else if (decodeSize.Width == width && decodeSize.Height == height)
        {
            CopyRgb(decoded, destination);
        }
        else
        {
            using var resized = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
            if (!decoded.ScalePixels(resized, SamplingFor(decodeSize.Width, decodeSize.Height, width, height)))
            {
                reason = $"cannot resize {decodeSize.Width}x{decodeSize.Height} to {width}x{height}";
                return false;
            }
            CopyRgb(resized, destination);
        }

        reason = "";
        return true;
    }

    /// <summary>The crop <paramref name="region"/> of the full-size photo in a decode of it at <paramref name="size"/>.</summary>
    static CropRect RegionAt(CropRect region, SKImageInfo full, SKSizeI size)
    {
        if (size.Width == full.Width && size.Height == full.Height) return region;
        double sx = (double)size.Width / full.Width, sy = (double)size.Height / full.Height;
        int x0 = (int)Math.Floor(region.X * sx), y0 = (int)Math.Floor(region.Y * sy);
        int x1 = Math.Min(size.Width, (int)Math.Ceiling(region.Right * sx)), y1 = Math.Min(size.Height, (int)Math.Ceiling(region.Bottom * sy));
        return new CropRect(x0, y0, Math.Max(1, x1 - x0), Math.Max(1, y1 - y0));
    }

    /// <summary>
    /// Cubic (Mitchell) is sharp and alias-free down to half size; beyond that its fixed-width kernel skips
    /// source pixels and aliases, so larger reductions go through mipmaps (trilinear), which average them.
    /// </summary>
    internal static SKSamplingOptions SamplingFor(int fromWidth, int fromHeight, int toWidth, int toHeight)
    {
        double reduction = Math.Max((double)fromWidth / toWidth, (double)fromHeight / toHeight);
        return reduction > 2.0
            ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)
            : new SKSamplingOptions(SKCubicResampler.Mitchell);
    }

    static unsafe void CopyRgb(SKBitmap bitmap, Span<byte> destination)
    {
        int width = bitmap.Width, height = bitmap.Height, rowBytes = bitmap.RowBytes;
        byte* pixels = (byte*)bitmap.GetPixels();
        for (int y = 0; y < height; y++)
        {
            var row = new ReadOnlySpan<byte>(pixels + (long)y * rowBytes, width * 4);
            var dst = destination.Slice(y * width * 3, width * 3);
            for (int x = 0, s = 0, d = 0; x < width; x++, s += 4, d += 3)
            {
                dst[d] = row[s];
                dst[d + 1] = row[s + 1];
                dst[d + 2] = row[s + 2];
            }
        }
    }
}
