using SkiaSharp;

namespace MaskLab.Synthetic;

/// <summary>
/// Draws one portrait into a reusable bitmap. All geometry is in a 384 x 512 design frame scaled to the output
/// size, with the head drawn around its own centre. Strokes that carry a cue (wrinkles, brows, lids, mask
/// pleats) are at least ~2.5 design pixels wide so that they still shade a pixel at a quarter of the size.
/// One painter per thread: Skia objects are not shared.
/// </summary>
internal sealed partial class PortraitPainter : IDisposable
{
    public const float DesignWidth = 384, DesignHeight = 512;
    const float HeadX = 192, HeadY = 212;

    readonly SKBitmap _bitmap;
    readonly SKCanvas _canvas;
    readonly SKPaint _fill = new() { IsAntialias = true, Style = SKPaintStyle.Fill };
    readonly SKPaint _line = new() { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeCap = SKStrokeCap.Round, StrokeJoin = SKStrokeJoin.Round };
    readonly SKPath _face = new(), _p = new(), _q = new();

    Look _l = null!;
    Shot _s;

    public PortraitPainter(int width, int height)
    {
        _bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        _canvas = new SKCanvas(_bitmap);
    }

    public SKBitmap Bitmap => _bitmap;

    public void Dispose()
    {
        _canvas.Dispose();
        _bitmap.Dispose();
        _fill.Dispose();
        _line.Dispose();
        _face.Dispose();
        _p.Dispose();
        _q.Dispose();
    }

    /// <summary>Encodes the current picture; PNG uses fast deflate since these files are few and big anyway.</summary>
    public void Encode(Stream to, string extension, int jpegQuality)
    {
        using var pixmap = _bitmap.PeekPixels();
        using var data = extension == "png"
            ? pixmap.Encode(new SKPngEncoderOptions(SKPngEncoderFilterFlags.Sub, 1))
            : pixmap.Encode(SKEncodedImageFormat.Jpeg, jpegQuality);
        if (data is null) throw new InvalidOperationException($"Skia could not encode a {extension} picture");
        to.Write(data.AsSpan());
    }

    public void Paint(Look look, Shot shot)
    {
        _l = look;
        _s = shot;
        var c = _canvas;
        c.ResetMatrix();
        c.Scale(_bitmap.Width / DesignWidth, _bitmap.Height / DesignHeight);
        DrawBackground();

        var (hx, hy, scale) = HeadPlacement(look, shot);
        BuildFace(_face, 0, 0, look.Rx, look.Ry, look.Jaw + 0.05f * look.Wrinkle, look.Chin);

        c.Save();
        HeadFrame(hx, hy, scale, shot.Rotation);
        DrawBackHair();
        c.Restore();

        // The neck turns with the shoulders, not the head, so a tilted head never swings it sideways.
        c.Save();
        HeadFrame(hx, hy, scale, shot.Rotation * 0.3f);
        DrawNeck();
        DrawBody();
        c.Restore();

        c.Save();
        HeadFrame(hx, hy, scale, shot.Rotation);
        DrawEars();
        DrawFace();
        DrawAgeLines();
        DrawEyes();
        DrawBrows();
        DrawNose();
        DrawBeard();
        DrawMouth();
        if (shot.Placement != MaskPlacement.None) DrawMask();
        DrawEarrings();
        DrawHairCap();
        DrawFrontLocks();
        if (look.Glasses > 0) DrawGlasses();
        c.Restore();

        DrawLighting();
    }

    /// <summary>Where <see cref="Paint"/> puts the head's centre (design pixels) and how much it scales the head.</summary>
    internal static (float X, float Y, float Scale) HeadPlacement(Look look, Shot shot) =>
        (HeadX + look.BaseDx + shot.Dx, HeadY + look.BaseDy + shot.Dy, look.BaseScale * shot.Scale);

    /// <summary>
    /// The box, in pixels of a <paramref name="width"/> x <paramref name="height"/> picture, around the face outline
    /// that <see cref="Paint"/> draws for this look and shot: cheek to cheek and chin to the top of the forehead
    /// (which the hair may cover), tilted as the head is; ears, hair and neck are outside it. Computed, not drawn,
    /// so a set's face boxes can be written without painting a pixel.
    /// </summary>
    public static SKRect FaceBox(Look look, Shot shot, int width, int height)
    {
        var (hx, hy, scale) = HeadPlacement(look, shot);
        var m = SKMatrix.CreateScale(width / DesignWidth, height / DesignHeight)
            .PreConcat(SKMatrix.CreateTranslation(hx, hy))
            .PreConcat(SKMatrix.CreateRotationDegrees(shot.Rotation))
            .PreConcat(SKMatrix.CreateScale(scale, scale));
        using var face = new SKPath();
        BuildFace(face, 0, 0, look.Rx, look.Ry, look.Jaw + 0.05f * look.Wrinkle, look.Chin);
        face.Transform(m);
        return face.TightBounds;
    }

    void HeadFrame(float x, float y, float scale, float degrees)
    {
        _canvas.Translate(x, y);
        _canvas.RotateDegrees(degrees);
        _canvas.Scale(scale, scale);
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    void Fill(SKColor color) { _fill.Shader = null; _fill.Color = color; }

    void Stroke(SKColor color, float width) { _line.Shader = null; _line.Color = color; _line.StrokeWidth = width; }

    static SKColor A(SKColor c, float alpha) => c.WithAlpha((byte)Math.Clamp(MathF.Round(alpha * 255), 0, 255));

    /// <summary>Face outline: a rounded skull over a jaw that narrows to the chin.</summary>
    internal static void BuildFace(SKPath p, float cx, float cy, float rx, float ry, float jaw, float chin)
    {
        p.Reset();
        p.MoveTo(cx, cy - ry);
        p.CubicTo(cx + rx * 0.56f, cy - ry, cx + rx, cy - ry * 0.62f, cx + rx, cy - ry * 0.12f);
        p.CubicTo(cx + rx, cy + ry * 0.25f, cx + rx * (jaw + 0.12f), cy + ry * 0.5f, cx + rx * jaw, cy + ry * 0.68f);
        p.CubicTo(cx + rx * (jaw - 0.1f), cy + ry * 0.86f, cx + rx * chin, cy + ry, cx, cy + ry);
        p.CubicTo(cx - rx * chin, cy + ry, cx - rx * (jaw - 0.1f), cy + ry * 0.86f, cx - rx * jaw, cy + ry * 0.68f);
        p.CubicTo(cx - rx * (jaw + 0.12f), cy + ry * 0.5f, cx - rx, cy + ry * 0.25f, cx - rx, cy - ry * 0.12f);
        p.CubicTo(cx - rx, cy - ry * 0.62f, cx - rx * 0.56f, cy - ry, cx, cy - ry);
        p.Close();
    }
}
