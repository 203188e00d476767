using SkiaSharp;

namespace MaskLab.Synthetic;

/// <summary>The light over the finished picture.</summary>
internal sealed partial class PortraitPainter
{
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
