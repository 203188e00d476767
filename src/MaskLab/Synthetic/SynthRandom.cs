namespace MaskLab.Synthetic;

/// <summary>
/// xoshiro256** with SplitMix64 seeding. Our own generator rather than <see cref="Random"/> so that a seed keeps
/// producing the same set whatever the runtime's algorithm becomes, and so that every person and photo gets an
/// independent stream keyed by its index (parallel drawing stays byte-identical).
/// </summary>
internal sealed class SynthRandom
{
    ulong _s0, _s1, _s2, _s3;

    public SynthRandom(ulong seed)
    {
        var x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    /// <summary>A stream for (seed, purpose, index); different purposes never share a stream.</summary>
    public static SynthRandom For(int seed, int purpose, long index) => new(Key(seed, purpose, index));

    public static ulong Key(int seed, int purpose, long index)
    {
        var x = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL;
        var a = SplitMix(ref x) ^ ((ulong)(uint)purpose << 32);
        a = SplitMix(ref a) ^ (ulong)index;
        return SplitMix(ref a);
    }

    static ulong SplitMix(ref ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        var z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextULong()
    {
        var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, n).</summary>
    public int Next(int n) => n <= 1 ? 0 : (int)((NextULong() >> 11) % (ulong)n);

    /// <summary>Uniform whole number in [lo, hi] inclusive.</summary>
    public int Between(int lo, int hi) => lo + Next(hi - lo + 1);

    public float Range(float lo, float hi) => lo + (float)NextDouble() * (hi - lo);

    public bool Chance(double p) => NextDouble() < p;

    /// <summary>Standard normal (Box-Muller).</summary>
    public double Normal()
    {
        var u = 1.0 - NextDouble();
        var v = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v);
    }

    /// <summary>Normal clipped to +-limit standard deviations, so no draw produces a grotesque face.</summary>
    public float Gauss(float mean, float sd, float limit = 2.5f) =>
        mean + sd * (float)Math.Clamp(Normal(), -limit, limit);

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    /// <summary>Index drawn with the given non-negative weights.</summary>
    public int Weighted(ReadOnlySpan<double> weights)
    {
        double total = 0;
        foreach (var w in weights) total += w;
        var u = NextDouble() * total;
        for (var i = 0; i < weights.Length; i++)
        {
            u -= weights[i];
            if (u < 0) return i;
        }
        return weights.Length - 1;
    }

    public void Shuffle<T>(IList<T> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
