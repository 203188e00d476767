using SkiaSharp;

namespace MaskLab.Data.Faces;

/// <summary>What looking for a face in one photo file gave.</summary>
/// <param name="Reason">Why the photo could not be read; empty when it was.</param>
/// <param name="Width">The photo's width in pixels (0 when unreadable).</param>
/// <param name="Best">The most confident face, in the photo's pixels; null when none was found.</param>
internal readonly record struct PhotoFaceResult(string Reason, int Width, int Height, FaceDetection? Best)
{
    public bool Readable => Reason.Length == 0;
}

/// <summary>Runs a detector on photo files: decoded down to the detector's input once, boxes mapped back to the photo.</summary>
internal static class PhotoFaces
{
    /// <summary>
    /// Finds the most confident face in the photo at <paramref name="path"/>. The photo is decoded (with the same
    /// filtered shrink as the image cache) straight to the largest size that fits the detector's input, so a
    /// 384 x 512 photo is read at 96 x 128 for BlazeFace.
    /// </summary>
    public static PhotoFaceResult Detect(IFaceDetector detector, string path)
    {
        ArgumentNullException.ThrowIfNull(detector);
        if (!TryReadSize(path, out var width, out var height, out var reason)) return new PhotoFaceResult(reason, 0, 0, null);
        var fit = Math.Min(1.0, (double)detector.InputSide / Math.Max(width, height));
        var w = Math.Max(1, (int)Math.Round(width * fit));
        var h = Math.Max(1, (int)Math.Round(height * fit));
        var rgb = new byte[w * h * 3];
        if (!ImageDecoder.TryDecode(path, w, h, rgb, out reason)) return new PhotoFaceResult(reason, 0, 0, null);
        var found = detector.Detect(rgb, w, h);
        if (found.Count == 0) return new PhotoFaceResult("", width, height, null);
        var best = found[0];
        return new PhotoFaceResult("", width, height, best with { Box = best.Box.Scale((float)width / w, (float)height / h) });
    }

    /// <summary>The pixel size from the file's header, without decoding it.</summary>
    public static bool TryReadSize(string path, out int width, out int height, out string reason)
    {
        width = height = 0;
        if (!ImageDecoder.CanOpen(path, out reason)) return false;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 14);
            using var codec = SKCodec.Create(stream);
            if (codec is null || codec.Info.Width <= 0 || codec.Info.Height <= 0)
            {
                reason = "not an image in a format that can be read (JPEG, PNG, BMP, GIF, WebP)";
                return false;
            }
            (width, height) = (codec.Info.Width, codec.Info.Height);
            reason = "";
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reason = $"cannot open: {e.Message}";
            return false;
        }
    }
}
