using SkiaSharp;

namespace MaskLab.Synthetic;

/// <summary>Hair and accessories: back hair, cap, front locks, earrings, glasses.</summary>
internal sealed partial class PortraitPainter
{
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
}
