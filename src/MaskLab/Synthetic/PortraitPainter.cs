using SkiaSharp;

namespace MaskLab.Synthetic;

/// <summary>
/// Draws one portrait into a reusable bitmap. All geometry is in a 384 x 512 design frame scaled to the output
/// size, with the head drawn around its own centre. Strokes that carry a cue (wrinkles, brows, lids, mask
/// pleats) are at least ~2.5 design pixels wide so that they still shade a pixel at a quarter of the size.
/// One painter per thread: Skia objects are not shared.
/// </summary>
internal sealed class PortraitPainter : IDisposable
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

    // ---- scene ---------------------------------------------------------------------------------------------

    void DrawBackground()
    {
        var l = _l;
        var c = _canvas;
        FillRowsGradient(l.Bg1, l.Bg2);
        switch (l.Background)
        {
            case BackgroundStyle.TwoTone:
                Fill(l.Bg2);
                c.DrawRect(0, l.BgSplit, DesignWidth, DesignHeight - l.BgSplit, _fill);
                Fill(Look.Shade(l.Bg3, 1.1f));
                c.DrawRect(0, l.BgSplit - 5, DesignWidth, 10, _fill);
                break;
            case BackgroundStyle.Door:
                Fill(l.Bg3);
                c.DrawRect(l.BgFeatureX, 30, 120, DesignHeight, _fill);
                Stroke(Look.Shade(l.Bg3, 0.7f), 9);
                c.DrawRect(l.BgFeatureX, 30, 120, DesignHeight, _line);
                Fill(new SKColor(200, 180, 90));
                c.DrawCircle(l.BgFeatureX + (l.BgFeatureX < 192 ? 100 : 20), 300, 7, _fill);
                break;
            case BackgroundStyle.Window:
                Fill(new SKColor(236, 242, 248));
                c.DrawRect(l.BgFeatureX, 40, 130, 220, _fill);
                Stroke(Look.Shade(l.Bg1, 0.8f), 8);
                c.DrawRect(l.BgFeatureX, 40, 130, 220, _line);
                c.DrawLine(l.BgFeatureX + 65, 40, l.BgFeatureX + 65, 260, _line);
                Fill(A(l.Bg3, 0.85f));
                c.DrawRect(l.BgFeatureX + (l.BgFeatureX < 192 ? 125 : -35), 20, 40, 300, _fill);
                break;
        }
        if (l.HasProp)
        {
            Fill(l.PropColor);
            c.DrawRoundRect(l.Prop, 14, 14, _fill);
        }
    }

    /// <summary>A vertical wall gradient written row by row: a shader over the whole canvas costs several times more.</summary>
    unsafe void FillRowsGradient(SKColor top, SKColor bottom)
    {
        var w = _bitmap.Width;
        var h = _bitmap.Height;
        var px = (uint*)_bitmap.GetPixels();
        for (var y = 0; y < h; y++)
        {
            var c = Look.Mix(top, bottom, h > 1 ? (float)y / (h - 1) : 0);
            var packed = c.Red | (uint)c.Green << 8 | (uint)c.Blue << 16 | 0xFF000000u;
            new Span<uint>(px + (long)y * w, w).Fill(packed);
        }
    }

    void DrawBody()
    {
        var l = _l;
        var c = _canvas;
        var ys = l.Ry + 58;
        var sw = l.ShoulderHalf;
        var nw = l.NeckHalf;
        var p = _p;
        p.Reset();
        p.MoveTo(-sw, 340);
        p.LineTo(-sw, ys + 70);
        p.CubicTo(-sw, ys + 15, -sw * 0.7f, ys, -nw - 20, ys - 6);
        p.LineTo(-nw - 4, ys - 10);
        if (l.Clothes == ClothesStyle.VNeck || l.Clothes == ClothesStyle.Jacket)
        {
            p.LineTo(0, ys + 48);
            p.LineTo(nw + 4, ys - 10);
        }
        else
        {
            p.QuadTo(0, ys + 26, nw + 4, ys - 10);
        }
        p.LineTo(nw + 20, ys - 6);
        p.CubicTo(sw * 0.7f, ys, sw, ys + 15, sw, ys + 70);
        p.LineTo(sw, 340);
        p.Close();
        Fill(l.Cloth);
        c.DrawPath(p, _fill);

        switch (l.Clothes)
        {
            case ClothesStyle.Collar:
                Fill(l.Cloth2);
                p.Reset();
                p.MoveTo(-nw - 6, ys - 12); p.LineTo(-2, ys + 28); p.LineTo(-nw - 24, ys + 20); p.Close();
                p.MoveTo(nw + 6, ys - 12); p.LineTo(2, ys + 28); p.LineTo(nw + 24, ys + 20); p.Close();
                c.DrawPath(p, _fill);
                Stroke(Look.Shade(l.Cloth, 0.75f), 3);
                c.DrawLine(0, ys + 28, 0, 340, _line);
                break;
            case ClothesStyle.Jacket:
                Fill(l.Cloth2);
                p.Reset();
                p.MoveTo(-nw + 2, ys - 8); p.LineTo(0, ys + 48); p.LineTo(nw - 2, ys - 8);
                p.LineTo(nw + 30, ys + 150); p.LineTo(-nw - 30, ys + 150); p.Close();
                c.DrawPath(p, _fill);
                Fill(l.Cloth);
                p.Reset();
                p.MoveTo(-nw - 4, ys - 10); p.LineTo(-18, ys + 110); p.LineTo(-nw - 30, ys + 60); p.Close();
                p.MoveTo(nw + 4, ys - 10); p.LineTo(18, ys + 110); p.LineTo(nw + 30, ys + 60); p.Close();
                c.DrawPath(p, _fill);
                Stroke(Look.Shade(l.Cloth, 0.6f), 3);
                c.DrawPath(p, _line);
                break;
            case ClothesStyle.Hoodie:
                Stroke(Look.Shade(l.Cloth, 0.8f), 16);
                p.Reset();
                p.MoveTo(-nw - 26, ys - 4); p.QuadTo(0, ys + 40, nw + 26, ys - 4);
                c.DrawPath(p, _line);
                Stroke(Look.Shade(l.Cloth2, 1.1f), 4);
                c.DrawLine(-16, ys + 22, -20, ys + 80, _line);
                c.DrawLine(16, ys + 22, 20, ys + 80, _line);
                break;
        }
    }

    void DrawNeck()
    {
        var l = _l;
        var c = _canvas;
        var nw = l.NeckHalf;
        Fill(Look.Shade(l.Skin, 0.9f));
        c.DrawRect(-nw, l.Ry * 0.3f, nw * 2, l.Ry * 0.7f + 110, _fill);
        // Shadow cast by the chin.
        Fill(A(Look.Shade(l.Skin, 0.6f), 0.3f));
        c.DrawOval(0, l.Ry * 0.95f, nw * 1.0f, 16, _fill);
        if (l.Wrinkle > 0.55f)
        {
            Stroke(A(Look.Shade(l.Skin, 0.7f), (l.Wrinkle - 0.55f) * 1.2f), 3);
            _p.Reset();
            _p.MoveTo(-nw * 0.7f, l.Ry + 32); _p.QuadTo(0, l.Ry + 38, nw * 0.7f, l.Ry + 32);
            c.DrawPath(_p, _line);
        }
    }

    // ---- head ----------------------------------------------------------------------------------------------

    void DrawEars()
    {
        var l = _l;
        Fill(Look.Shade(l.Skin, 0.93f));
        var yaw = _s.Yaw;
        for (var side = -1; side <= 1; side += 2)
        {
            // The ear on the side the head turns away from shows more.
            var w = 11 * (1 + 0.35f * side * yaw);
            _canvas.DrawOval(side * l.Rx * 0.97f, l.Ry * 0.04f, w, l.Ry * 0.2f, _fill);
        }
        Stroke(A(Look.Shade(l.Skin, 0.65f), 0.6f), 2.5f);
        for (var side = -1; side <= 1; side += 2)
            _canvas.DrawOval(side * (l.Rx * 0.97f + 4), l.Ry * 0.04f, 4, l.Ry * 0.12f, _line);
    }

    void DrawFace()
    {
        var l = _l;
        var c = _canvas;
        Fill(l.Skin);
        c.DrawPath(_face, _fill);

        // Roundness: lit on the light side, shaded toward the rim; faded and duller with age.
        var shadow = Look.Shade(l.Skin, 0.62f);
        using (var sh = SKShader.CreateRadialGradient(
            new SKPoint(-_s.Light * l.Rx * 0.35f + _s.Yaw * 8, -l.Ry * 0.1f), l.Ry * 1.2f,
            [new SKColor(255, 255, 255, 40), new SKColor(255, 255, 255, 0), A(shadow, 0.0f), A(shadow, 0.55f)],
            [0f, 0.35f, 0.55f, 1f], SKShaderTileMode.Clamp))
        {
            _fill.Shader = sh;
            c.DrawPath(_face, _fill);
            _fill.Shader = null;
        }
        if (l.Blush > 0.01f)
        {
            Fill(A(new SKColor(235, 120, 130), l.Blush));
            c.DrawOval(-l.Rx * 0.55f, l.Ry * 0.3f, 17, 11, _fill);
            c.DrawOval(l.Rx * 0.55f, l.Ry * 0.3f, 17, 11, _fill);
        }
        if (l.Wrinkle > 0.05f)
        {
            Fill(A(new SKColor(150, 140, 110), 0.12f * l.Wrinkle));
            c.DrawPath(_face, _fill);
        }
    }

    float FeatureX => _s.Yaw * 8;

    /// <summary>Where the hair meets the forehead at the middle; lines above it would show through thin hair.</summary>
    float HairlineY => _l.Fringe switch
    {
        Fringe.Bangs => _l.BrowY - 8,
        _ => -_l.Ry * 0.6f - _l.Recession * _l.Ry * 0.3f,
    };

    void DrawEyes()
    {
        var l = _l;
        var c = _canvas;
        var fx = FeatureX;
        var ew = l.EyeW;
        var eh = l.EyeH;
        var lid = new SKColor(38, 28, 26);
        for (var side = -1; side <= 1; side += 2)
        {
            var cx = side * l.EyeSpacing + fx;
            var p = _p;
            p.Reset();
            // Outer corners sit a little higher in youth and droop with age.
            var outerY = -1.5f + 2.5f * l.Wrinkle;
            p.MoveTo(cx - side * ew, 1);
            p.QuadTo(cx, -eh * 2.0f, cx + side * ew, outerY);
            p.QuadTo(cx, eh * 1.7f, cx - side * ew, 1);
            p.Close();
            Fill(new SKColor(236, 232, 226));
            c.DrawPath(p, _fill);
            c.Save();
            c.ClipPath(p, SKClipOperation.Intersect, true);
            Fill(l.Iris);
            c.DrawCircle(cx + _s.Yaw * 3, -0.5f, eh * 1.15f, _fill);
            Fill(new SKColor(12, 10, 10));
            c.DrawCircle(cx + _s.Yaw * 3, -0.5f, eh * 0.5f, _fill);
            c.Restore();
            Fill(new SKColor(255, 255, 255, 200));
            c.DrawCircle(cx + _s.Yaw * 3 + 2, -2.5f, 1.6f, _fill);

            // Upper lid line, heavier with eyeliner.
            _q.Reset();
            _q.MoveTo(cx - side * (ew + 1), 1.5f);
            _q.QuadTo(cx, -eh * 2.1f, cx + side * (ew + 2), outerY - 0.5f);
            Stroke(lid, l.Eyeliner ? 3.6f : 2.6f);
            c.DrawPath(_q, _line);
            // Lid crease, which hoods the eye with age.
            _q.Reset();
            _q.MoveTo(cx - side * ew * 0.6f, -eh - 2.5f);
            _q.QuadTo(cx, -eh * 2.2f - 3, cx + side * (ew + 1), -eh * 0.4f + 2.5f * l.Wrinkle);
            Stroke(A(Look.Shade(l.Skin, 0.6f), 0.25f + 0.35f * l.Wrinkle), 2 + 1.5f * l.Wrinkle);
            c.DrawPath(_q, _line);
        }
    }

    void DrawBrows()
    {
        var l = _l;
        var fx = FeatureX;
        Stroke(l.BrowColor, l.BrowThick);
        _line.StrokeCap = SKStrokeCap.Round;
        for (var side = -1; side <= 1; side += 2)
        {
            var inner = side * (l.EyeSpacing - l.EyeW * 0.9f) + fx;
            var outer = side * (l.EyeSpacing + l.EyeW * 1.15f) + fx;
            _p.Reset();
            _p.MoveTo(inner, l.BrowY + 2);
            _p.QuadTo(side * (l.EyeSpacing + 2) + fx, l.BrowY - l.BrowArch * 2, outer, l.BrowY + 3 + l.Wrinkle * 2);
            _canvas.DrawPath(_p, _line);
        }
    }

    void DrawNose()
    {
        var l = _l;
        var c = _canvas;
        var nx = _s.Yaw * 12;
        var ny = l.NoseLen;
        var dark = Look.Shade(l.Skin, 0.55f);
        // Bridge shadow on the side away from the light.
        var side = _s.Light >= 0 ? 1 : -1;
        Stroke(A(dark, 0.22f), 3);
        _p.Reset();
        _p.MoveTo(side * 7 + nx * 0.3f, -l.Ry * 0.08f);
        _p.QuadTo(side * 9 + nx * 0.7f, ny * 0.5f, side * (l.NoseW * 0.55f) + nx, ny - 6);
        c.DrawPath(_p, _line);
        // Shadow under the tip, nostrils and wings.
        Fill(A(dark, 0.28f));
        c.DrawOval(nx, ny + 3, l.NoseW * 0.7f, 4, _fill);
        Fill(A(Look.Shade(l.Skin, 0.4f), 0.8f));
        c.DrawOval(nx - l.NoseW * 0.36f, ny - 1, 4, 2.6f, _fill);
        c.DrawOval(nx + l.NoseW * 0.36f, ny - 1, 4, 2.6f, _fill);
        Stroke(A(dark, 0.55f), 2.6f);
        for (var s = -1; s <= 1; s += 2)
        {
            _p.Reset();
            _p.MoveTo(nx + s * l.NoseW * 0.5f, ny - 9);
            _p.QuadTo(nx + s * (l.NoseW * 0.85f), ny - 3, nx + s * l.NoseW * 0.5f, ny + 1);
            c.DrawPath(_p, _line);
        }
        Fill(new SKColor(255, 255, 255, 45));
        c.DrawOval(nx, ny - 7, 5, 4, _fill);
    }

    float MouthY => _l.Ry * 0.6f;

    void DrawMouth()
    {
        var l = _l;
        var c = _canvas;
        var mx = _s.Yaw * 9;
        var my = MouthY;
        var w = l.MouthW;
        // Corners lift with a smile and sag with age.
        var corner = my - 3 * _s.Smile + 2.5f * l.Wrinkle;
        var p = _p;
        p.Reset();
        p.MoveTo(mx - w, corner);
        p.QuadTo(mx - w * 0.5f, my - l.LipTop * 1.6f, mx, my - l.LipTop * 0.9f);
        p.QuadTo(mx + w * 0.5f, my - l.LipTop * 1.6f, mx + w, corner);
        p.QuadTo(mx, my + l.LipBottom * 2.2f, mx - w, corner);
        p.Close();
        Fill(l.Lip);
        c.DrawPath(p, _fill);
        Stroke(Look.Shade(l.Lip, 0.45f), 2.2f);
        _q.Reset();
        _q.MoveTo(mx - w, corner);
        _q.QuadTo(mx, my + 2 - 2 * _s.Smile, mx + w, corner);
        c.DrawPath(_q, _line);
        Fill(new SKColor(255, 255, 255, 40));
        c.DrawOval(mx, my + l.LipBottom * 0.7f, w * 0.35f, 2, _fill);
    }

    void DrawAgeLines()
    {
        var l = _l;
        var c = _canvas;
        var w = l.Wrinkle;
        if (w < 0.02f) return;
        var line = Look.Shade(l.Skin, 0.62f);
        var fx = FeatureX;

        // Forehead: up to three lines, each fading in over its own stretch of the age range.
        for (var i = 0; i < 3; i++)
        {
            var alpha = Math.Clamp((w - 0.2f - 0.18f * i) * 2.2f, 0, 0.7f);
            if (alpha <= 0) continue;
            var y = l.BrowY - 13 - i * 9;
            if (y < HairlineY + 6) break;
            Stroke(A(line, alpha), 2.8f);
            _p.Reset();
            _p.MoveTo(-l.Rx * 0.42f + fx, y + 2);
            _p.QuadTo(fx, y - 3, l.Rx * 0.42f + fx, y + 2);
            c.DrawPath(_p, _line);
        }
        // Lines from the nose wings to the mouth corners, then below the corners.
        var nx = _s.Yaw * 12;
        var my = MouthY;
        Stroke(A(line, 0.1f + 0.5f * w), 3.2f);
        for (var s = -1; s <= 1; s += 2)
        {
            _p.Reset();
            _p.MoveTo(nx + s * l.NoseW * 0.9f, l.NoseLen - 6);
            _p.QuadTo(s * (l.MouthW + 10) + fx, my - 8, s * (l.MouthW + 7) + fx, my + 10);
            c.DrawPath(_p, _line);
        }
        if (w > 0.45f)
        {
            Stroke(A(line, (w - 0.45f) * 1.2f), 3);
            for (var s = -1; s <= 1; s += 2)
                c.DrawLine(s * (l.MouthW + 2) + fx, my + 8, s * (l.MouthW + 5) + fx, my + 30, _line);
        }
        // Bags under the eyes and crow's feet at the outer corners.
        Stroke(A(Look.Shade(l.Skin, 0.58f), 0.08f + 0.45f * w), 3.2f);
        for (var s = -1; s <= 1; s += 2)
        {
            var ex = s * l.EyeSpacing + fx;
            _p.Reset();
            _p.MoveTo(ex - l.EyeW * 0.8f, l.EyeH + 4);
            _p.QuadTo(ex, l.EyeH + 11 + 3 * w, ex + l.EyeW * 0.9f, l.EyeH + 3);
            c.DrawPath(_p, _line);
        }
        Stroke(A(line, 0.55f * w), 2.4f);
        for (var s = -1; s <= 1; s += 2)
        {
            var ox = s * (l.EyeSpacing + l.EyeW + 4) + fx;
            for (var k = -1; k <= 1; k++)
                c.DrawLine(ox, k * 3, ox + s * 11, k * 7 - 1, _line);
        }
        if (w > 0.6f)
        {
            Fill(A(new SKColor(150, 105, 70), (w - 0.6f) * 1.2f));
            c.DrawCircle(-l.Rx * 0.6f, -l.Ry * 0.4f, 3.5f, _fill);
            c.DrawCircle(l.Rx * 0.55f, l.Ry * 0.22f, 3, _fill);
            c.DrawCircle(l.Rx * 0.3f, -l.Ry * 0.52f, 2.8f, _fill);
        }
    }

    void DrawBeard()
    {
        var l = _l;
        if (l.Beard == BeardStyle.None) return;
        var c = _canvas;
        var my = MouthY;
        var mx = _s.Yaw * 9;
        var ny = l.NoseLen;
        var color = A(l.BeardColor, l.BeardAlpha);
        c.Save();
        c.ClipPath(_face, SKClipOperation.Intersect, true);
        switch (l.Beard)
        {
            case BeardStyle.Stubble:
                Fill(A(Look.Shade(l.BeardColor, 0.9f), 0.22f));
                BeardRegion(_p, ny);
                c.DrawPath(_p, _fill);
                break;
            case BeardStyle.Full:
                Fill(color);
                BeardRegion(_p, ny);
                c.DrawPath(_p, _fill);
                break;
            case BeardStyle.Goatee:
                Fill(color);
                c.DrawOval(mx, my + 22, l.MouthW * 0.6f, 17, _fill);
                break;
        }
        c.Restore();
        if (l.Beard is BeardStyle.Mustache or BeardStyle.Goatee or BeardStyle.Full)
        {
            Fill(color);
            _p.Reset();
            _p.MoveTo(mx - l.MouthW * 1.05f, my + 1);
            _p.QuadTo(mx - l.MouthW * 0.6f, ny + 1, mx, ny + 4);
            _p.QuadTo(mx + l.MouthW * 0.6f, ny + 1, mx + l.MouthW * 1.05f, my + 1);
            _p.QuadTo(mx, my - 7, mx - l.MouthW * 1.05f, my + 1);
            _p.Close();
            c.DrawPath(_p, _fill);
        }
    }

    void BeardRegion(SKPath p, float ny)
    {
        var l = _l;
        p.Reset();
        p.MoveTo(-l.Rx * 1.1f, -l.Ry * 0.05f);
        p.LineTo(-l.Rx * 0.78f, -l.Ry * 0.02f);
        p.QuadTo(-l.Rx * 0.7f, ny, -l.MouthW * 1.2f, ny + 8);
        p.QuadTo(0, ny + 2, l.MouthW * 1.2f, ny + 8);
        p.QuadTo(l.Rx * 0.7f, ny, l.Rx * 0.78f, -l.Ry * 0.02f);
        p.LineTo(l.Rx * 1.1f, -l.Ry * 0.05f);
        p.LineTo(l.Rx * 1.1f, l.Ry * 1.2f);
        p.LineTo(-l.Rx * 1.1f, l.Ry * 1.2f);
        p.Close();
    }

    // ---- mask ----------------------------------------------------------------------------------------------

    void DrawMask()
    {
        var l = _l;
        var s = _s;
        var c = _canvas;
        var m = s.Mask;
        var ry = l.Ry;
        var rx = l.Rx;
        float topMid, topSide, grow;
        switch (s.Placement)
        {
            case MaskPlacement.Worn: topMid = ry * 0.09f; topSide = ry * 0.2f; grow = 1.05f; break;
            case MaskPlacement.UnderNose: topMid = l.NoseLen + 5; topSide = l.NoseLen + 2; grow = 1.08f; break;
            default: topMid = MouthY + 12; topSide = MouthY + 2; grow = 1.16f; break;
        }
        var peak = m.Print == MaskPrint.Kf94 ? 10f : 5f;

        // The mask is the face outline, slightly enlarged and dropped below the chin, cut by a top edge that
        // rises over the nose.
        BuildFace(_q, 0, ry * (grow - 1) * 0.9f, rx * 1.06f, ry * grow, l.Jaw + 0.08f, l.Chin + 0.12f);
        var top = _p;
        top.Reset();
        top.MoveTo(-rx * 1.3f, topSide + 6);
        top.LineTo(-rx * 0.95f, topSide);
        top.QuadTo(-rx * 0.3f, topMid - peak, s.Yaw * 6, topMid - peak);
        top.QuadTo(rx * 0.3f, topMid - peak, rx * 0.95f, topSide);
        top.LineTo(rx * 1.3f, topSide + 6);
        top.LineTo(rx * 1.3f, ry * 1.6f);
        top.LineTo(-rx * 1.3f, ry * 1.6f);
        top.Close();

        // Ear loops first so the mask body covers their ends.
        Stroke(m.Loop, 3.2f);
        for (var side = -1; side <= 1; side += 2)
        {
            var ex = side * rx * 0.98f;
            c.DrawLine(side * rx * 1.0f, topSide + 4, ex, -ry * 0.06f, _line);
            c.DrawLine(side * rx * 0.92f, Math.Min(topSide + 48, ry * 0.85f), ex, ry * 0.2f, _line);
        }

        c.Save();
        c.ClipPath(top, SKClipOperation.Intersect, true);
        c.ClipPath(_q, SKClipOperation.Intersect, true);
        Fill(m.Base);
        c.DrawRect(-rx * 1.3f, topMid - 20, rx * 2.6f, ry * 1.7f, _fill);
        var bottom = ry * grow * 1.05f;
        DrawMaskPrint(m, topMid - 12, bottom, rx);

        // Light across the cloth and a shadow where it curves under the chin.
        var dir = s.Light >= 0 ? 1 : -1;
        using (var sh = SKShader.CreateLinearGradient(new SKPoint(-rx * dir, 0), new SKPoint(rx * dir, 0),
            [new SKColor(255, 255, 255, 45), new SKColor(255, 255, 255, 0), new SKColor(0, 0, 0, 60)], null, SKShaderTileMode.Clamp))
        {
            _fill.Shader = sh;
            c.DrawRect(-rx * 1.3f, topMid - 20, rx * 2.6f, ry * 1.7f, _fill);
            _fill.Shader = null;
        }
        c.Restore();

        Stroke(A(Look.Shade(m.Base, 0.7f), 0.8f), 2.5f);
        _q.Reset();
        _q.MoveTo(-rx * 0.95f, topSide);
        _q.QuadTo(-rx * 0.3f, topMid - peak, s.Yaw * 6, topMid - peak);
        _q.QuadTo(rx * 0.3f, topMid - peak, rx * 0.95f, topSide);
        c.DrawPath(_q, _line);
    }

    void DrawMaskPrint(MaskDesign m, float top, float bottom, float rx)
    {
        var c = _canvas;
        var h = bottom - top;
        switch (m.Print)
        {
            case MaskPrint.Pleated:
                Stroke(m.Accent, 3);
                for (var i = 1; i <= 3; i++)
                {
                    var y = top + h * (0.12f + 0.2f * i);
                    _p.Reset();
                    _p.MoveTo(-rx * 1.2f, y + 3);
                    _p.QuadTo(0, y - 4, rx * 1.2f, y + 3);
                    c.DrawPath(_p, _line);
                }
                Stroke(A(Look.Shade(m.Base, 1.08f), 0.8f), 6);
                c.DrawLine(-rx * 0.35f, top + 16, rx * 0.35f, top + 16, _line);
                break;
            case MaskPrint.Kf94:
                Stroke(m.Accent, 2.6f);
                c.DrawLine(_s.Yaw * 6, top, _s.Yaw * 6 + 2, bottom, _line);
                c.DrawLine(-rx * 1.1f, top + h * 0.55f, rx * 1.1f, top + h * 0.55f, _line);
                break;
            case MaskPrint.Dots:
                Fill(m.Accent);
                for (var y = top; y < bottom; y += m.Spacing)
                {
                    var odd = ((int)((y - top) / m.Spacing) & 1) * m.Spacing * 0.5f;
                    for (var x = -rx * 1.2f + odd; x < rx * 1.2f; x += m.Spacing)
                        c.DrawCircle(x, y, m.Spacing * 0.25f, _fill);
                }
                break;
            case MaskPrint.Stripes:
                Stroke(m.Accent, m.Spacing * 0.4f);
                _line.StrokeCap = SKStrokeCap.Butt;
                for (var x = -rx * 1.2f - h; x < rx * 1.2f; x += m.Spacing)
                    c.DrawLine(x, bottom, x + h, top, _line);
                _line.StrokeCap = SKStrokeCap.Round;
                break;
            case MaskPrint.Checks:
                Fill(A(m.Accent, 0.45f));
                for (var x = -rx * 1.2f; x < rx * 1.2f; x += m.Spacing * 1.4f)
                    c.DrawRect(x, top, m.Spacing * 0.7f, h, _fill);
                for (var y = top; y < bottom; y += m.Spacing * 1.4f)
                    c.DrawRect(-rx * 1.2f, y, rx * 2.4f, m.Spacing * 0.7f, _fill);
                break;
            case MaskPrint.Flowers:
                var petal = m.Spacing * 0.17f;
                for (var y = top + 6; y < bottom; y += m.Spacing * 1.3f)
                {
                    var odd = ((int)((y - top) / (m.Spacing * 1.3f)) & 1) * m.Spacing * 0.65f;
                    for (var x = -rx * 1.2f + odd; x < rx * 1.2f; x += m.Spacing * 1.3f)
                    {
                        Fill(m.Accent);
                        for (var k = 0; k < 5; k++)
                        {
                            var ang = k * MathF.Tau / 5;
                            c.DrawCircle(x + MathF.Cos(ang) * petal * 1.3f, y + MathF.Sin(ang) * petal * 1.3f, petal, _fill);
                        }
                        Fill(new SKColor(245, 215, 80));
                        c.DrawCircle(x, y, petal * 0.7f, _fill);
                    }
                }
                break;
        }
    }

    // ---- hair and accessories ------------------------------------------------------------------------------

    bool HasBackHair => _l.Hair is HairStyle.Long or HairStyle.Shoulder or HairStyle.Bob or HairStyle.Medium or HairStyle.Perm;

    void DrawBackHair()
    {
        var l = _l;
        if (!HasBackHair) return;
        var v = l.HairVolume + 2;
        var len = l.HairLength;
        var flare = l.Hair is HairStyle.Long or HairStyle.Shoulder ? 16f : 6f;
        var p = _p;
        p.Reset();
        p.MoveTo(-l.Rx - v - flare, len);
        p.LineTo(-l.Rx - v, -l.Ry * 0.1f);
        p.CubicTo(-l.Rx - v, -l.Ry * 0.75f - v, -(l.Rx + v) * 0.55f, -l.Ry - v * 1.1f, 0, -l.Ry - v * 1.1f);
        p.CubicTo((l.Rx + v) * 0.55f, -l.Ry - v * 1.1f, l.Rx + v, -l.Ry * 0.75f - v, l.Rx + v, -l.Ry * 0.1f);
        p.LineTo(l.Rx + v + flare, len);
        p.QuadTo(0, len + 12, -l.Rx - v - flare, len);
        p.Close();
        Fill(A(Look.Shade(l.HairColor, 0.8f), l.Density));
        _canvas.DrawPath(p, _fill);
    }

    void DrawHairCap()
    {
        var l = _l;
        var c = _canvas;
        var rx = l.Rx;
        var ry = l.Ry;
        var v = l.HairVolume;
        var rec = l.Recession;
        var sideY = l.Hair switch
        {
            HairStyle.Buzz or HairStyle.Short or HairStyle.Swept or HairStyle.Tied or HairStyle.Pixie => -ry * 0.02f,
            HairStyle.Medium or HairStyle.Perm => ry * 0.2f,
            _ => ry * 0.3f,
        };
        var midY = -ry * 0.6f - rec * ry * 0.3f;
        var templeY = -ry * 0.42f - rec * ry * 0.45f;
        var mirror = l.PartLeft ? -1 : 1;

        var p = _p;
        p.Reset();
        p.MoveTo(-(rx + v * 0.6f), sideY);
        p.LineTo(-(rx + v), -ry * 0.1f);
        p.CubicTo(-(rx + v), -ry * 0.75f - v, -(rx + v) * 0.55f, -ry - v * 1.1f, 0, -ry - v * 1.1f);
        p.CubicTo((rx + v) * 0.55f, -ry - v * 1.1f, rx + v, -ry * 0.75f - v, rx + v, -ry * 0.1f);
        p.LineTo(rx + v * 0.6f, sideY);
        p.LineTo(rx * 0.96f, sideY);
        switch (l.Fringe)
        {
            case Fringe.Bangs:
                var by = l.BrowY - 9;
                p.LineTo(rx * 0.93f, by + 14);
                p.QuadTo(rx * 0.5f, by, 0, by + 1);
                p.QuadTo(-rx * 0.5f, by, -rx * 0.93f, by + 14);
                break;
            case Fringe.SidePart:
                // Swept from a low side to a high part; mirrored for a part on the other side.
                p.LineTo(rx * 0.94f, mirror > 0 ? templeY + ry * 0.18f : templeY);
                if (mirror > 0)
                {
                    p.QuadTo(rx * 0.5f, midY + ry * 0.28f, -rx * 0.25f, midY - 2);
                    p.QuadTo(-rx * 0.7f, midY, -rx * 0.94f, templeY);
                }
                else
                {
                    p.QuadTo(rx * 0.7f, midY, rx * 0.25f, midY - 2);
                    p.QuadTo(-rx * 0.5f, midY + ry * 0.28f, -rx * 0.94f, templeY + ry * 0.18f);
                }
                break;
            case Fringe.CenterPart:
                p.LineTo(rx * 0.94f, templeY + ry * 0.25f);
                p.QuadTo(rx * 0.45f, midY + ry * 0.12f, 0, midY - ry * 0.06f);
                p.QuadTo(-rx * 0.45f, midY + ry * 0.12f, -rx * 0.94f, templeY + ry * 0.25f);
                break;
            default:
                p.LineTo(rx * 0.94f, templeY);
                // Receding temples push the hairline into an M.
                p.QuadTo(rx * 0.55f, midY + rec * ry * 0.35f, rx * 0.25f, midY);
                p.QuadTo(0, midY - 3, -rx * 0.25f, midY);
                p.QuadTo(-rx * 0.55f, midY + rec * ry * 0.35f, -rx * 0.94f, templeY);
                break;
        }
        p.LineTo(-rx * 0.96f, sideY);
        p.Close();

        var hair = A(l.HairColor, l.Hair == HairStyle.Buzz ? 0.8f * l.Density : l.Density);
        Fill(hair);
        c.DrawPath(p, _fill);
        if (l.Hair == HairStyle.Perm)
        {
            // Curls: bumps along the outline.
            for (var i = 0; i <= 12; i++)
            {
                var t = MathF.PI * (1.05f + 0.9f * i / 12f);
                c.DrawCircle(MathF.Cos(t) * (rx + v * 0.7f), -ry * 0.15f + MathF.Sin(t) * (ry * 0.88f + v * 0.8f), v * 0.5f, _fill);
            }
        }
        // Strands and a sheen, kept inside the cap.
        c.Save();
        c.ClipPath(p, SKClipOperation.Intersect, true);
        var sheenDir = -_s.Light;
        Stroke(A(Look.Mix(l.HairColor, SKColors.White, 0.3f), 0.22f * l.Density), 3);
        for (var i = -2; i <= 2; i++)
        {
            _q.Reset();
            _q.MoveTo(i * rx * 0.3f + sheenDir * 8, -ry - v);
            _q.QuadTo(i * rx * 0.45f + sheenDir * 14, -ry * 0.6f, i * rx * 0.55f, -ry * 0.2f);
            c.DrawPath(_q, _line);
        }
        c.Restore();
    }

    void DrawFrontLocks()
    {
        var l = _l;
        if (l.Hair is not (HairStyle.Long or HairStyle.Shoulder)) return;
        var c = _canvas;
        var v = l.HairVolume;
        var len = l.HairLength;
        var bottomInner = l.NeckHalf + 4;
        var bottomOuter = l.Hair == HairStyle.Long ? l.NeckHalf + 58 : l.Rx + v + 14;
        Fill(A(l.HairColor, l.Density));
        for (var side = -1; side <= 1; side += 2)
        {
            var p = _p;
            p.Reset();
            p.MoveTo(side * (l.Rx + v), -l.Ry * 0.25f);
            p.QuadTo(side * (l.Rx + v + 10), l.Ry * 0.55f, side * bottomOuter, len);
            p.QuadTo(side * (bottomInner + bottomOuter) * 0.5f, len + 10, side * bottomInner, len - 8);
            p.QuadTo(side * (l.Rx * l.Jaw + 6), l.Ry * 0.7f, side * l.Rx * 0.9f, -l.Ry * 0.15f);
            p.Close();
            c.DrawPath(p, _fill);
        }
        Stroke(A(Look.Shade(l.HairColor, 0.7f), 0.5f), 2.5f);
        for (var side = -1; side <= 1; side += 2)
        {
            _q.Reset();
            _q.MoveTo(side * (l.Rx + v * 0.5f), 0);
            _q.QuadTo(side * (l.Rx + 8), l.Ry * 0.8f, side * (bottomInner + bottomOuter) * 0.5f, len - 4);
            c.DrawPath(_q, _line);
        }
    }

    void DrawEarrings()
    {
        var l = _l;
        if (!l.Earrings) return;
        Fill(l.EarringColor);
        _canvas.DrawCircle(-l.Rx * 0.99f, l.Ry * 0.26f, 4, _fill);
        _canvas.DrawCircle(l.Rx * 0.99f, l.Ry * 0.26f, 4, _fill);
    }

    void DrawGlasses()
    {
        var l = _l;
        var c = _canvas;
        var fx = FeatureX;
        var w = l.EyeW + 8;
        var h = l.EyeH + 8 + (l.Glasses == 2 ? 4 : 0);
        var corner = l.Glasses == 2 ? h : 6;
        Fill(new SKColor(255, 255, 255, 28));
        for (var side = -1; side <= 1; side += 2)
            c.DrawRoundRect(new SKRect(side * l.EyeSpacing + fx - w, -h, side * l.EyeSpacing + fx + w, h + 2), corner, corner, _fill);
        Stroke(l.GlassesColor, 3.4f);
        for (var side = -1; side <= 1; side += 2)
        {
            c.DrawRoundRect(new SKRect(side * l.EyeSpacing + fx - w, -h, side * l.EyeSpacing + fx + w, h + 2), corner, corner, _line);
            c.DrawLine(side * (l.EyeSpacing + w) + fx, -h * 0.4f, side * l.Rx * 0.99f, -h * 0.6f, _line);
        }
        _p.Reset();
        _p.MoveTo(-l.EyeSpacing + w + fx, -h * 0.3f);
        _p.QuadTo(fx, -h * 0.8f, l.EyeSpacing - w + fx, -h * 0.3f);
        c.DrawPath(_p, _line);
    }

    // ---- light -----------------------------------------------------------------------------------------------

    /// <summary>
    /// Side light, exposure, colour cast, vignette and the darker bottom of the frame in one pass over the
    /// pixels: out = in * gx(x) * gy(y) * m + o per channel. Three canvas overlays cost about ten times more.
    /// </summary>
    unsafe void DrawLighting()
    {
        var s = _s;
        var w = _bitmap.Width;
        var h = _bitmap.Height;
        var side = Math.Clamp(s.Light, -1f, 1f);
        Span<float> gx = w <= 1024 ? stackalloc float[w] : new float[w];
        for (var x = 0; x < w; x++)
        {
            var u = (x + 0.5f) / w - 0.5f;
            gx[x] = (1 - 0.32f * side * u * 2) * (1 - 0.35f * _l.Vignette * u * u * 4);
        }
        var e = Math.Clamp(s.Exposure, -1f, 1f);
        var gain = e >= 0 ? 1 - 0.2f * e : 1 + 0.27f * e;
        var lift = e >= 0 ? 255 * 0.2f * e : 0;
        var a = s.CastAlpha / 255f;
        float mr = gain * (1 - a), mg = gain * (1 - a), mb = gain * (1 - a);
        float or = lift * (1 - a) + s.Cast.Red * a, og = lift * (1 - a) + s.Cast.Green * a, ob = lift * (1 - a) + s.Cast.Blue * a;
        var px = (byte*)_bitmap.GetPixels();
        for (var y = 0; y < h; y++)
        {
            var v = (y + 0.5f) / h;
            var gy = (1 - 0.3f * Math.Clamp((v - 0.7f) / 0.3f, 0, 1)) * (1 - 0.35f * _l.Vignette * (v - 0.45f) * (v - 0.45f) * 4);
            var row = px + (long)y * w * 4;
            for (var x = 0; x < w; x++)
            {
                var g = gx[x] * gy;
                var p = row + x * 4;
                p[0] = Clamp8(p[0] * g * mr + or);
                p[1] = Clamp8(p[1] * g * mg + og);
                p[2] = Clamp8(p[2] * g * mb + ob);
            }
        }
    }

    static byte Clamp8(float v) => v <= 0 ? (byte)0 : v >= 255 ? (byte)255 : (byte)(v + 0.5f);
}
