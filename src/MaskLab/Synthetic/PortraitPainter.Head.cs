using SkiaSharp;

namespace MaskLab.Synthetic;

/// <summary>The head: ears, face, eyes, brows, nose, mouth, the lines of age and the beard.</summary>
internal sealed partial class PortraitPainter
{
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
}
