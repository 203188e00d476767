using SkiaSharp;

namespace MaskLab.Data;

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
    public static bool TryDecode(string path, int width, int height, Span<byte> destination, out string reason)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (destination.Length < width * height * 3)
            throw new ArgumentException($"destination holds {destination.Length} bytes, {width}x{height} RGB needs {width * height * 3}", nameof(destination));

        if (!File.Exists(path))
        {
            reason = Directory.Exists(path) ? "is a folder, not a file" : "file not found";
            return false;
        }

        try
        {
            return DecodeExisting(path, width, height, destination, out reason);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reason = $"cannot open: {e.Message}";
            return false;
        }
    }

    static bool DecodeExisting(string path, int width, int height, Span<byte> destination, out string reason)
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

        // JPEG can decode at 1/8 .. 8/8 scale inside the DCT, which is several times faster than a full decode
        // and box-filters as it goes. Ask for the smallest such size still at least the target in both axes.
        var decodeSize = new SKSizeI(info.Width, info.Height);
        float scale = Math.Max((float)width / info.Width, (float)height / info.Height);
        if (scale < 1f)
        {
            var scaled = codec.GetScaledDimensions(scale);
            if (scaled.Width >= width && scaled.Height >= height && scaled.Width <= info.Width && scaled.Height <= info.Height)
                decodeSize = scaled;
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

        if (decodeSize.Width == width && decodeSize.Height == height)
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
