using System.Runtime.CompilerServices;

namespace MaskLab.Data.Loading;

/// <summary>
/// Knobs of the per-image training augmentation. Every image draws its own values (torchvision's .NET
/// transforms draw once per batch, which makes a whole batch flip together).
/// </summary>
/// <param name="FlipProbability">Chance of a horizontal flip.</param>
/// <param name="CropScaleMin">Smallest crop area as a fraction of the image (random resized crop).</param>
/// <param name="CropScaleMax">Largest crop area as a fraction of the image; at most 1.</param>
/// <param name="AspectJitter">The crop's aspect ratio is the image's times r, r log-uniform in [1/(1+j), 1+j].
/// Relative to the image, not absolute as in torchvision, so that portraits stay portraits.</param>
/// <param name="Brightness">Brightness factor uniform in [1-b, 1+b] (torchvision's ColorJitter).</param>
/// <param name="Contrast">Contrast factor uniform in [1-c, 1+c], blending with the image's mean grey.</param>
/// <param name="Saturation">Saturation factor uniform in [1-s, 1+s], blending with each pixel's grey.</param>
public sealed record AugmentOptions(
    double FlipProbability = 0,
    double CropScaleMin = 1,
    double CropScaleMax = 1,
    double AspectJitter = 0,
    double Brightness = 0,
    double Contrast = 0,
    double Saturation = 0)
{
    /// <summary>No augmentation: evaluation and prediction.</summary>
    public static AugmentOptions None { get; } = new();

    /// <summary>Flip, a mild crop (80..100 % of the area, aspect within 10 %) and colour jitter of 0.2.</summary>
    public static AugmentOptions Default { get; } = new(
        FlipProbability: 0.5, CropScaleMin: 0.8, CropScaleMax: 1.0, AspectJitter: 0.1,
        Brightness: 0.2, Contrast: 0.2, Saturation: 0.2);

    public bool IsNone =>
        FlipProbability <= 0 && CropScaleMin >= 1 && AspectJitter <= 0 && Brightness <= 0 && Contrast <= 0 && Saturation <= 0;

    /// <summary>Throws <see cref="MaskLabInputException"/> naming the first knob out of range.</summary>
    public void Validate()
    {
        static void Check(bool ok, string name, double value, string rule)
        {
            if (!ok) throw new MaskLabInputException($"augmentation {name} = {value} is out of range: {rule}");
        }
        Check(FlipProbability is >= 0 and <= 1, "flip probability", FlipProbability, "0..1");
        Check(CropScaleMin is > 0 and <= 1, "crop scale min", CropScaleMin, "above 0, at most 1");
        Check(CropScaleMax >= CropScaleMin && CropScaleMax <= 1, "crop scale max", CropScaleMax, "crop scale min..1");
        Check(AspectJitter is >= 0 and <= 1, "aspect jitter", AspectJitter, "0..1");
        Check(Brightness is >= 0 and <= 1, "brightness", Brightness, "0..1");
        Check(Contrast is >= 0 and <= 1, "contrast", Contrast, "0..1");
        Check(Saturation is >= 0 and <= 1, "saturation", Saturation, "0..1");
    }
}

/// <summary>Per-channel mean and standard deviation that pixels in 0..1 are normalised with.</summary>
public readonly record struct ImageNormalization(float MeanR, float MeanG, float MeanB, float StdR, float StdG, float StdB)
{
    /// <summary>The task's statistics, as the competition's baseline uses.</summary>
    public static ImageNormalization Task { get; } = new(0.548f, 0.504f, 0.479f, 0.237f, 0.247f, 0.246f);

    /// <summary>ImageNet's, for weights pretrained on it.</summary>
    public static ImageNormalization ImageNet { get; } = new(0.485f, 0.456f, 0.406f, 0.229f, 0.224f, 0.225f);
}

/// <summary>The values one image drew: where its crop lies (in source pixels), whether it flips, its colour factors.</summary>
internal readonly record struct AugmentDraw(
    bool Flip, double CropX, double CropY, double CropWidth, double CropHeight,
    float Brightness, float Contrast, float Saturation)
{
    public static AugmentDraw Identity(int width, int height) => new(false, 0, 0, width, height, 1f, 1f, 1f);
}

/// <summary>
/// Turns a cached RGB image (bytes, HWC) into the network's input (normalised floats, CHW), augmenting it on the
/// way for training. Runs for every image of every epoch on a 2-core machine, so it is two passes of plain loops
/// over spans writing straight into the batch tensor's memory, with no allocation per image.
/// </summary>
internal static class Augmentation
{
    // ITU-R 601 luma, the weights torchvision's rgb_to_grayscale uses for contrast and saturation.
    const float GreyR = 0.2989f, GreyG = 0.587f, GreyB = 0.114f;

    /// <summary>
    /// Augments and normalises one image. The draw depends only on (<paramref name="seed"/>,
    /// <paramref name="epoch"/>, <paramref name="index"/>): the same sample looks the same in a rerun, whatever
    /// the batch order or thread, and different in each epoch.
    /// </summary>
    /// <param name="rgb">Source pixels, <paramref name="sourceWidth"/> x <paramref name="sourceHeight"/> x 3 bytes, HWC.</param>
    /// <param name="destination">Output, 3 x <paramref name="height"/> x <paramref name="width"/> floats, CHW.</param>
    /// <param name="index">The sample's index in its data set (not its position in a batch).</param>
    public static void Apply(
        ReadOnlySpan<byte> rgb, int sourceWidth, int sourceHeight, Span<float> destination, int width, int height,
        AugmentOptions options, ImageNormalization normalization, int seed, int epoch, int index)
    {
        var draw = options.IsNone
            ? AugmentDraw.Identity(sourceWidth, sourceHeight)
            : Draw(options, sourceWidth, sourceHeight, seed, epoch, index);
        Render(rgb, sourceWidth, sourceHeight, destination, width, height, draw, normalization);
    }

    /// <summary>Normalises one image without augmenting it; the source and output have the same size.</summary>
    public static void Normalize(ReadOnlySpan<byte> rgb, int width, int height, Span<float> destination, ImageNormalization normalization) =>
        Render(rgb, width, height, destination, width, height, AugmentDraw.Identity(width, height), normalization);

    /// <summary>Mirrors RGB bytes (HWC): pixel (x, y) goes to (width-1-x, y). Source and destination must not overlap.</summary>
    public static void FlipHorizontal(ReadOnlySpan<byte> source, Span<byte> destination, int width, int height)
    {
        int rowBytes = width * 3;
        CheckFlip(source.Length, destination.Length, rowBytes * height, source.Overlaps(destination));
        for (int y = 0; y < height; y++)
        {
            var src = source.Slice(y * rowBytes, rowBytes);
            var dst = destination.Slice(y * rowBytes, rowBytes);
            for (int x = 0, s = 0, d = rowBytes - 3; x < width; x++, s += 3, d -= 3)
            {
                dst[d] = src[s];
                dst[d + 1] = src[s + 1];
                dst[d + 2] = src[s + 2];
            }
        }
    }

    /// <summary>
    /// Mirrors planar floats (CHW, e.g. one image of a batch for test-time augmentation): element (c, y, x) goes
    /// to (c, y, width-1-x). Source and destination must not overlap.
    /// </summary>
    public static void FlipHorizontal(ReadOnlySpan<float> source, Span<float> destination, int channels, int width, int height)
    {
        int rows = channels * height;
        CheckFlip(source.Length, destination.Length, rows * width, source.Overlaps(destination));
        for (int row = 0; row < rows; row++)
        {
            var src = source.Slice(row * width, width);
            var dst = destination.Slice(row * width, width);
            for (int x = 0, d = width - 1; x < width; x++, d--) dst[d] = src[x];
        }
    }

    static void CheckFlip(int sourceLength, int destinationLength, int needed, bool overlap)
    {
        if (sourceLength < needed || destinationLength < needed)
            throw new ArgumentException($"flip needs {needed} elements; source has {sourceLength}, destination {destinationLength}");
        if (overlap) throw new ArgumentException("flip source and destination overlap");
    }

    /// <summary>
    /// Draws one image's augmentation. Always draws the same eight numbers in the same order, so switching a
    /// knob off leaves the other knobs' draws as they were.
    /// </summary>
    internal static AugmentDraw Draw(AugmentOptions o, int sourceWidth, int sourceHeight, int seed, int epoch, int index)
    {
        var rng = new StreamRandom(StreamRandom.AugmentStream, seed, epoch, index);
        double uFlip = rng.NextDouble(), uScale = rng.NextDouble(), uAspect = rng.NextDouble();
        double uX = rng.NextDouble(), uY = rng.NextDouble();
        double uBright = rng.NextDouble(), uContrast = rng.NextDouble(), uSaturation = rng.NextDouble();

        double scale = o.CropScaleMin + (o.CropScaleMax - o.CropScaleMin) * uScale;
        double logJitter = Math.Log(1 + o.AspectJitter);
        double aspect = Math.Exp(-logJitter + 2 * logJitter * uAspect);
        double cropW = Math.Min(sourceWidth, sourceWidth * Math.Sqrt(scale * aspect));
        double cropH = Math.Min(sourceHeight, sourceHeight * Math.Sqrt(scale / aspect));

        return new AugmentDraw(
            Flip: uFlip < o.FlipProbability,
            CropX: (sourceWidth - cropW) * uX,
            CropY: (sourceHeight - cropH) * uY,
            CropWidth: cropW,
            CropHeight: cropH,
            Brightness: Factor(o.Brightness, uBright),
            Contrast: Factor(o.Contrast, uContrast),
            Saturation: Factor(o.Saturation, uSaturation));
    }

    static float Factor(double strength, double u)
    {
        double low = Math.Max(0, 1 - strength), high = 1 + strength;
        return (float)(low + (high - low) * u);
    }

    /// <summary>
    /// Pass 1 samples the crop bilinearly (the flip folded into the column map) with brightness applied, into
    /// the output planes, summing grey for the contrast mean. Pass 2 applies contrast, saturation and the
    /// normalisation in place. Clamping to 0..1 after each colour step follows torchvision's ColorJitter.
    /// Pointers rather than span indexing: the bounds are checked once up front, and the per-pixel checks
    /// otherwise cost as much as the arithmetic.
    /// </summary>
    internal static unsafe void Render(
        ReadOnlySpan<byte> src, int sourceWidth, int sourceHeight, Span<float> dst, int width, int height,
        in AugmentDraw draw, ImageNormalization n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sourceWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sourceHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        int srcRow = sourceWidth * 3, plane = width * height;
        if (src.Length < srcRow * sourceHeight)
            throw new ArgumentException($"source holds {src.Length} bytes, {sourceWidth}x{sourceHeight} RGB needs {srcRow * sourceHeight}");
        if (dst.Length < 3 * plane)
            throw new ArgumentException($"destination holds {dst.Length} floats, 3x{height}x{width} needs {3 * plane}");

        // Widths past a few thousand would strain the stack; those (rare) take a heap array.
        Span<int> col0 = width <= 2048 ? stackalloc int[width] : new int[width];
        Span<int> col1 = width <= 2048 ? stackalloc int[width] : new int[width];
        Span<float> colW = width <= 2048 ? stackalloc float[width] : new float[width];

        double stepX = draw.CropWidth / width, stepY = draw.CropHeight / height;
        for (int x = 0; x < width; x++)
        {
            int from = draw.Flip ? width - 1 - x : x;
            double sx = Math.Clamp(draw.CropX + (from + 0.5) * stepX - 0.5, 0, sourceWidth - 1);
            int i0 = (int)sx;
            col0[x] = i0 * 3;
            col1[x] = Math.Min(i0 + 1, sourceWidth - 1) * 3;
            colW[x] = (float)(sx - i0);
        }
        // Whole image at its own size: every weight is 0, so copy the nearest (that is, the exact) pixel.
        bool exact = draw.CropX == 0 && draw.CropY == 0 && draw.CropWidth == sourceWidth && draw.CropHeight == sourceHeight
            && width == sourceWidth && height == sourceHeight;

        float bright = draw.Brightness / 255f;
        double greySum = 0;
        fixed (byte* source = src)
        fixed (float* output = dst)
        fixed (int* c0 = col0, c1 = col1)
        fixed (float* cw = colW)
        {
            for (int y = 0; y < height; y++)
            {
                float* r = output + y * width, g = r + plane, b = g + plane;
                float rowGrey = 0;
                if (exact)
                {
                    byte* row = source + y * srcRow;
                    for (int x = 0; x < width; x++)
                    {
                        byte* p = row + c0[x];
                        float vr = MathF.Min(p[0] * bright, 1f), vg = MathF.Min(p[1] * bright, 1f), vb = MathF.Min(p[2] * bright, 1f);
                        r[x] = vr;
                        g[x] = vg;
                        b[x] = vb;
                        rowGrey += GreyR * vr + GreyG * vg + GreyB * vb;
                    }
                }
                else
                {
                    double sy = Math.Clamp(draw.CropY + (y + 0.5) * stepY - 0.5, 0, sourceHeight - 1);
                    int j0 = (int)sy;
                    float wy = (float)(sy - j0);
                    byte* top = source + j0 * srcRow;
                    byte* bottom = source + Math.Min(j0 + 1, sourceHeight - 1) * srcRow;
                    for (int x = 0; x < width; x++)
                    {
                        byte* tl = top + c0[x], tr = top + c1[x], bl = bottom + c0[x], br = bottom + c1[x];
                        float wx = cw[x];
                        float vr = MathF.Min(Lerp2(tl[0], tr[0], bl[0], br[0], wx, wy) * bright, 1f);
                        float vg = MathF.Min(Lerp2(tl[1], tr[1], bl[1], br[1], wx, wy) * bright, 1f);
                        float vb = MathF.Min(Lerp2(tl[2], tr[2], bl[2], br[2], wx, wy) * bright, 1f);
                        r[x] = vr;
                        g[x] = vg;
                        b[x] = vb;
                        rowGrey += GreyR * vr + GreyG * vg + GreyB * vb;
                    }
                }
                greySum += rowGrey;
            }

            float contrast = draw.Contrast, saturation = draw.Saturation;
            float contrastOffset = (1f - contrast) * (float)(greySum / plane);
            float keepGrey = 1f - saturation;
            float meanR = n.MeanR, meanG = n.MeanG, meanB = n.MeanB;
            float invR = 1f / n.StdR, invG = 1f / n.StdG, invB = 1f / n.StdB;
            float* outR = output, outG = output + plane, outB = output + 2 * plane;
            for (int i = 0; i < plane; i++)
            {
                float r = Clamp01(contrast * outR[i] + contrastOffset);
                float g = Clamp01(contrast * outG[i] + contrastOffset);
                float b = Clamp01(contrast * outB[i] + contrastOffset);
                float grey = keepGrey * (GreyR * r + GreyG * g + GreyB * b);
                r = Clamp01(saturation * r + grey);
                g = Clamp01(saturation * g + grey);
                b = Clamp01(saturation * b + grey);
                outR[i] = (r - meanR) * invR;
                outG[i] = (g - meanG) * invG;
                outB[i] = (b - meanB) * invB;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Lerp2(byte topLeft, byte topRight, byte bottomLeft, byte bottomRight, float wx, float wy)
    {
        float top = topLeft + (topRight - topLeft) * wx;
        float bottom = bottomLeft + (bottomRight - bottomLeft) * wx;
        return top + (bottom - top) * wy;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Clamp01(float v) => v < 0f ? 0f : v > 1f ? 1f : v;
}
