using System.Collections.Concurrent;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Data.Loading;

/// <summary>
/// What a set of weights expects of its input, as data: a batch of RGB images in 0..1 ([N, 3, H, W]) becomes
/// <c>(x * Scale - Mean) / Std</c>. <c>Mean</c> is per channel, or a per-pixel mean image ([3, MeanHeight,
/// MeanWidth], RGB planes) that is resized bilinearly (half-pixel centres, as the loader resizes photos) to the
/// batch's size; <c>Std</c> is per channel. The loader's <see cref="ImageNormalization"/> is the per-channel case
/// with Scale 1.
/// </summary>
public sealed class InputNormalization
{
    readonly float[] _mean;
    readonly float[] _std;
    readonly ConcurrentDictionary<(int Width, int Height), float[]> _resized = new();

    /// <summary>A short name to record in a run (e.g. <c>resnet18_mlnet</c>, <c>task</c>).</summary>
    public string Name { get; }

    public float Scale { get; }

    public int MeanWidth { get; }

    public int MeanHeight { get; }

    /// <summary>The mean, 3 x MeanHeight x MeanWidth floats (RGB planes); 3 floats when per channel.</summary>
    public ReadOnlySpan<float> Mean => _mean;

    public ReadOnlySpan<float> Std => _std;

    public bool IsPerPixel => MeanWidth > 1 || MeanHeight > 1;

    InputNormalization(string name, float scale, float[] mean, int meanWidth, int meanHeight, float[] std)
    {
        if (std.Length != 3 || std.Any(s => !(s > 0) || !float.IsFinite(s)))
            throw new MaskLabInputException($"normalisation '{name}' needs 3 positive standard deviations, got [{string.Join(", ", std)}]");
        if (meanWidth < 1 || meanHeight < 1 || mean.Length != 3 * meanWidth * meanHeight)
            throw new MaskLabInputException(
                $"normalisation '{name}': a {meanWidth}x{meanHeight} mean needs {3 * Math.Max(meanWidth, 0) * Math.Max(meanHeight, 0)} values, got {mean.Length}");
        if (!(scale > 0) || !float.IsFinite(scale))
            throw new MaskLabInputException($"normalisation '{name}' needs a positive scale, got {scale}");
        Name = name;
        Scale = scale;
        _mean = mean;
        _std = std;
        MeanWidth = meanWidth;
        MeanHeight = meanHeight;
    }

    public static InputNormalization PerChannel(string name, float scale, float[] mean, float[] std)
    {
        if (mean.Length != 3) throw new MaskLabInputException($"normalisation '{name}' needs 3 channel means, got {mean.Length}");
        return new(name, scale, (float[])mean.Clone(), 1, 1, (float[])std.Clone());
    }

    /// <param name="meanImage">3 x <paramref name="height"/> x <paramref name="width"/> floats, RGB planes.</param>
    public static InputNormalization PerPixel(string name, float scale, float[] meanImage, int width, int height, float[] std) =>
        new(name, scale, (float[])meanImage.Clone(), width, height, (float[])std.Clone());

    /// <summary>The loader's per-channel statistics (pixels in 0..1) as a description.</summary>
    public static InputNormalization From(string name, ImageNormalization n) =>
        PerChannel(name, 1f, [n.MeanR, n.MeanG, n.MeanB], [n.StdR, n.StdG, n.StdB]);

    /// <summary>Leaves the loader's 0..1 RGB as it is: give this to the loader when <see cref="Apply"/> runs after it.</summary>
    public static ImageNormalization LoaderPassThrough { get; } = new(0f, 0f, 0f, 1f, 1f, 1f);

    /// <summary>The same scale and spread with the mean image replaced by its per-channel averages.</summary>
    public InputNormalization ChannelAverages()
    {
        if (!IsPerPixel) return this;
        int plane = MeanWidth * MeanHeight;
        var means = new float[3];
        for (var c = 0; c < 3; c++)
        {
            double sum = 0;
            for (var i = 0; i < plane; i++) sum += _mean[c * plane + i];
            means[c] = (float)(sum / plane);
        }
        return PerChannel(Name + ":channel_means", Scale, means, _std);
    }

    /// <summary>
    /// The per-channel case as the loader's own normalisation, so the loader does all of it and <see cref="Apply"/>
    /// is not needed; null for a per-pixel mean.
    /// </summary>
    public ImageNormalization? AsLoaderNormalization() =>
        IsPerPixel
            ? null
            : new ImageNormalization(_mean[0] / Scale, _mean[1] / Scale, _mean[2] / Scale, _std[0] / Scale, _std[1] / Scale, _std[2] / Scale);

    /// <summary>The mean at <paramref name="width"/> x <paramref name="height"/>: 3 planes, or 3 floats when per channel.</summary>
    public float[] MeanAt(int width, int height)
    {
        if (width < 1 || height < 1) throw new MaskLabInputException($"normalisation '{Name}': image size {width}x{height} is not positive");
        if (!IsPerPixel || (width == MeanWidth && height == MeanHeight)) return _mean;
        return _resized.GetOrAdd((width, height), size => Resize(_mean, MeanWidth, MeanHeight, size.Width, size.Height));
    }

    /// <summary>Bilinear with half-pixel centres and edge clamping, the rule Augmentation.Render samples photos with.</summary>
    static float[] Resize(float[] source, int sw, int sh, int w, int h)
    {
        var result = new float[3 * w * h];
        double stepX = (double)sw / w, stepY = (double)sh / h;
        for (var y = 0; y < h; y++)
        {
            var sy = Math.Clamp((y + 0.5) * stepY - 0.5, 0, sh - 1);
            int y0 = (int)sy, y1 = Math.Min(y0 + 1, sh - 1);
            var wy = (float)(sy - y0);
            for (var x = 0; x < w; x++)
            {
                var sx = Math.Clamp((x + 0.5) * stepX - 0.5, 0, sw - 1);
                int x0 = (int)sx, x1 = Math.Min(x0 + 1, sw - 1);
                var wx = (float)(sx - x0);
                for (var c = 0; c < 3; c++)
                {
                    var p = c * sw * sh;
                    float top = source[p + y0 * sw + x0] + (source[p + y0 * sw + x1] - source[p + y0 * sw + x0]) * wx;
                    float bottom = source[p + y1 * sw + x0] + (source[p + y1 * sw + x1] - source[p + y1 * sw + x0]) * wx;
                    result[c * w * h + y * w + x] = top + (bottom - top) * wy;
                }
            }
        }
        return result;
    }

    /// <summary>Normalises a batch [N, 3, H, W] (or one image [3, H, W]) of RGB in 0..1 in place and returns it.</summary>
    public Tensor ApplyInPlace(Tensor batch)
    {
        var (height, width) = CheckShape(batch);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var mean = MeanAt(width, height);
        var meanTensor = IsPerPixel
            ? tensor(mean, [3, height, width], dtype: batch.dtype, device: batch.device)
            : tensor(mean, [3, 1, 1], dtype: batch.dtype, device: batch.device);
        var inverseStd = tensor(_std.Select(s => 1f / s).ToArray(), [3, 1, 1], dtype: batch.dtype, device: batch.device);
        batch.mul_(Scale).sub_(meanTensor).mul_(inverseStd);
        return batch;
    }

    /// <summary>A normalised copy of a batch [N, 3, H, W] (or one image [3, H, W]) of RGB in 0..1.</summary>
    public Tensor Apply(Tensor batch)
    {
        CheckShape(batch);
        return ApplyInPlace(batch.clone());
    }

    (int Height, int Width) CheckShape(Tensor batch)
    {
        var shape = batch.shape;
        if (shape.Length is < 3 or > 4 || shape[^3] != 3)
            throw new MaskLabInputException(
                $"normalisation '{Name}' needs a [N, 3, H, W] or [3, H, W] batch, got [{string.Join(", ", shape)}]");
        return ((int)shape[^2], (int)shape[^1]);
    }

    /// <summary>One line for logs and run records.</summary>
    public override string ToString()
    {
        static string List(IEnumerable<float> v) => string.Join(", ", v.Select(f => f.ToString("0.####", CultureInfo.InvariantCulture)));
        var mean = IsPerPixel
            ? $"a {MeanWidth}x{MeanHeight} RGB mean image (channel averages {List(ChannelAverages()._mean)}), resized bilinearly"
            : $"mean [{List(_mean)}]";
        return $"{Name}: x in 0..1 RGB, (x * {Scale.ToString(CultureInfo.InvariantCulture)} - {mean}) / [{List(_std)}]";
    }
}
