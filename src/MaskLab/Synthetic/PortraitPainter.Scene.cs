using SkiaSharp;

namespace MaskLab.Synthetic;

/// <summary>The scene around the person: wall, body and neck.</summary>
internal sealed partial class PortraitPainter
{
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
}
