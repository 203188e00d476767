using SkiaSharp;

namespace MaskLab.Synthetic;

/// <summary>The mask, worn or worn wrongly, plain or printed.</summary>
internal sealed partial class PortraitPainter
{
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
}
