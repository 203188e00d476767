using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace MaskLab.Data.Loading;

/// <summary>
/// Per-image mixing augmentations, each drawn with its probability: <see cref="Cutmix"/> (a random box from another
/// photo, labels mixed by area), <see cref="CutmixVertical"/> (the left or right half from another photo: faces are
/// centred on this task, so a half is half a face), <see cref="Mixup"/> (a Beta-weighted blend) and
/// <see cref="Cutout"/> (a box blanked to the normalised mean; labels unchanged). The first three exclude each other
/// and their probabilities may sum to at most 1; cutout is drawn on its own.
/// </summary>
public sealed record MixOptions(double Cutmix = 0, double CutmixVertical = 0, double Mixup = 0, double Cutout = 0,
    double MixupAlpha = 0.4, double CutmixAlpha = 1.0)
{
    public static readonly MixOptions None = new();

    public bool Active => Cutmix > 0 || CutmixVertical > 0 || Mixup > 0 || Cutout > 0;

    /// <summary>The first problem as a <see cref="MaskLabInputException"/> naming the config key.</summary>
    public void Validate()
    {
        Probability(Cutmix, "cutmix");
        Probability(CutmixVertical, "cutmix_vertical");
        Probability(Mixup, "mixup");
        Probability(Cutout, "cutout");
        if (Cutmix + CutmixVertical + Mixup > 1 + 1e-9)
            throw new MaskLabInputException($"cutmix + cutmix_vertical + mixup = {Cutmix + CutmixVertical + Mixup:0.###} exceeds 1: an image gets at most one of them");
        if (!(MixupAlpha > 0) || double.IsInfinity(MixupAlpha)) throw new MaskLabInputException($"mixup_alpha {MixupAlpha} must be a positive number");
        if (!(CutmixAlpha > 0) || double.IsInfinity(CutmixAlpha)) throw new MaskLabInputException($"cutmix_alpha {CutmixAlpha} must be a positive number");
    }

    static void Probability(double p, string key)
    {
        if (!(p >= 0 && p <= 1)) throw new MaskLabInputException($"{key} {p} is not a probability in 0..1");
    }
}

/// <summary>What was done to one image of a batch (for tests and logs).</summary>
internal enum MixKind { None, Cutmix, CutmixVertical, Mixup }

/// <summary>One image's mix: its partner in the batch, the weight of its own label, and the pasted box (x, y, w, h).</summary>
internal readonly record struct MixRecord(MixKind Kind, int Partner, double OwnWeight, (int X, int Y, int W, int H) Box, (int X, int Y, int W, int H)? Cutout);

/// <summary>
/// Applies <see cref="MixOptions"/> to a finished batch in place (as a <see cref="BatchTransform"/> on the loader's
/// thread) and sets <see cref="Batch.SoftTargets"/> to the mixed label distributions. Every draw comes from
/// (seed, epoch, batch, image), so a run repeats exactly. Partners are read from an untouched copy of the batch,
/// so the order images are mixed in does not matter.
/// </summary>
internal static class Mixing
{
    // Kept apart from the loader's shuffle (1) and augmentation (2) streams.
    const ulong MixStream = 3;

    /// <summary>The loader hook for these options, or null when they mix nothing.</summary>
    public static BatchTransform? Transform(MixOptions options, int classes, int seed)
    {
        options.Validate();
        if (!options.Active) return null;
        return (batch, epoch, index) => Apply(batch, options, classes, seed, epoch, index);
    }

    public static MixRecord[] Apply(Batch batch, MixOptions options, int classes, int seed, int epoch, int batchIndex)
    {
        var images = batch.Images;
        int n = batch.Count, h = (int)images.shape[2], w = (int)images.shape[3], plane = h * w, imageFloats = 3 * plane;
        var pixels = MemoryMarshal.Cast<byte, float>(images.bytes);
        var source = pixels.ToArray();
        var labels = batch.Labels.data<long>().ToArray();
        var records = new MixRecord[n];
        bool labelsMixed = false;

        for (int i = 0; i < n; i++)
        {
            var rng = new StreamRandom(MixStream, seed, epoch, ((long)batchIndex << 20) + i);
            double u = rng.NextDouble();
            var kind = n < 2 ? MixKind.None
                : u < options.Cutmix ? MixKind.Cutmix
                : u < options.Cutmix + options.CutmixVertical ? MixKind.CutmixVertical
                : u < options.Cutmix + options.CutmixVertical + options.Mixup ? MixKind.Mixup
                : MixKind.None;
            int partner = i;
            if (kind != MixKind.None)
            {
                partner = rng.NextInt(n - 1);
                if (partner >= i) partner++;
            }
            var own = pixels.Slice(i * imageFloats, imageFloats);
            var other = source.AsSpan(partner * imageFloats, imageFloats);
            double ownWeight = 1;
            (int X, int Y, int W, int H) box = (0, 0, 0, 0);
            switch (kind)
            {
                case MixKind.Cutmix:
                {
                    double lambda = Beta(ref rng, options.CutmixAlpha);
                    box = RandomBox(ref rng, w, h, Math.Sqrt(1 - lambda));
                    Paste(own, other, w, h, box);
                    ownWeight = 1 - (double)box.W * box.H / plane;
                    break;
                }
                case MixKind.CutmixVertical:
                {
                    int half = w / 2;
                    box = rng.NextDouble() < 0.5 ? (0, 0, half, h) : (w - half, 0, half, h);
                    Paste(own, other, w, h, box);
                    ownWeight = 1 - (double)half / w;
                    break;
                }
                case MixKind.Mixup:
                {
                    double lambda = Beta(ref rng, options.MixupAlpha);
                    float a = (float)lambda, b = 1 - a;
                    for (int k = 0; k < own.Length; k++) own[k] = a * own[k] + b * other[k];
                    ownWeight = a;
                    break;
                }
            }
            if (kind != MixKind.None && labels[i] != labels[partner]) labelsMixed = true;

            (int, int, int, int)? cut = null;
            if (options.Cutout > 0 && rng.NextDouble() < options.Cutout)
            {
                var c = RandomBox(ref rng, w, h, 0.5);
                for (int ch = 0; ch < 3; ch++)
                    for (int y = c.Y; y < c.Y + c.H; y++)
                        own.Slice(ch * plane + y * w + c.X, c.W).Clear();
                cut = c;
            }
            records[i] = new MixRecord(kind, partner, ownWeight, box, cut);
        }

        if (labelsMixed)
        {
            var targets = new float[n * classes];
            for (int i = 0; i < n; i++)
            {
                var r = records[i];
                targets[i * classes + labels[i]] += (float)r.OwnWeight;
                targets[i * classes + labels[r.Partner]] += (float)(1 - r.OwnWeight);
            }
            batch.SoftTargets = tensor(targets, new long[] { n, classes }).DetachFromDisposeScope();
        }
        BlendAuxTargets(batch, records.Select(r => r.Kind == MixKind.None ? (r.Partner, 0.0) : (r.Partner, 1 - r.OwnWeight)).ToArray(), null);
        return records;
    }

    /// <summary>
    /// Mixes <see cref="Batch.AuxTargets"/> as the labels are mixed: row i becomes (1 - share) x its own row + share x
    /// the row of its partner (an image of the batch, or, with <paramref name="outside"/>, a row given from elsewhere).
    /// </summary>
    /// <param name="mixes">Per image: the partner (index into the batch, or into <paramref name="outside"/>) and the
    /// partner's share; share 0 leaves the row as it is.</param>
    internal static void BlendAuxTargets(Batch batch, (int Partner, double Share)[] mixes, float[][]? outside)
    {
        if (batch.AuxTargets is not { } aux || mixes.All(m => m.Share == 0)) return;
        int n = (int)aux.shape[0], k = (int)aux.shape[1];
        var rows = aux.contiguous().data<float>().ToArray();
        var blended = (float[])rows.Clone();
        for (int i = 0; i < n; i++)
        {
            var (partner, share) = mixes[i];
            if (share == 0) continue;
            for (int j = 0; j < k; j++)
            {
                float other = outside is null ? rows[partner * k + j] : outside[partner][j];
                blended[i * k + j] = (float)((1 - share) * rows[i * k + j] + share * other);
            }
        }
        batch.AuxTargets = tensor(blended, new long[] { n, k }).DetachFromDisposeScope();
    }

    /// <summary>A box of about <paramref name="sideFraction"/> of each side, centred uniformly and clipped to the image (as CutMix does).</summary>
    static (int X, int Y, int W, int H) RandomBox(ref StreamRandom rng, int w, int h, double sideFraction)
    {
        int cw = (int)(w * sideFraction), ch = (int)(h * sideFraction);
        int cx = rng.NextInt(w), cy = rng.NextInt(h);
        int x0 = Math.Clamp(cx - cw / 2, 0, w), x1 = Math.Clamp(cx + cw / 2, 0, w);
        int y0 = Math.Clamp(cy - ch / 2, 0, h), y1 = Math.Clamp(cy + ch / 2, 0, h);
        return (x0, y0, x1 - x0, y1 - y0);
    }

    static void Paste(Span<float> own, ReadOnlySpan<float> other, int w, int h, (int X, int Y, int W, int H) box)
    {
        int plane = w * h;
        for (int ch = 0; ch < 3; ch++)
            for (int y = box.Y; y < box.Y + box.H; y++)
                other.Slice(ch * plane + y * w + box.X, box.W).CopyTo(own.Slice(ch * plane + y * w + box.X, box.W));
    }

    /// <summary>Beta(alpha, alpha) as X / (X + Y) of two Gamma(alpha) draws.</summary>
    static double Beta(ref StreamRandom rng, double alpha)
    {
        double x = Gamma(ref rng, alpha), y = Gamma(ref rng, alpha);
        return x + y > 0 ? x / (x + y) : 0.5;
    }

    /// <summary>Marsaglia and Tsang's method; shapes below 1 are boosted by U^(1/alpha).</summary>
    static double Gamma(ref StreamRandom rng, double alpha)
    {
        if (alpha < 1) return Gamma(ref rng, alpha + 1) * Math.Pow(1 - rng.NextDouble(), 1 / alpha);
        double d = alpha - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double z, v;
            do
            {
                z = Normal(ref rng);
                v = 1 + c * z;
            } while (v <= 0);
            v = v * v * v;
            double u = 1 - rng.NextDouble();
            if (Math.Log(u) < 0.5 * z * z + d - d * v + d * Math.Log(v)) return d * v;
        }
    }

    static double Normal(ref StreamRandom rng)
    {
        double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
