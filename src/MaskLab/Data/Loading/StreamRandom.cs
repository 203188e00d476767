namespace MaskLab.Data.Loading;

/// <summary>
/// A small counter-keyed generator (SplitMix64). Each (seed, epoch, item) key gets its own stream, so a draw
/// depends only on its key and never on how many draws other images, threads or batches made before it;
/// System.Random cannot promise that, and one shared generator would make results depend on thread timing.
/// </summary>
internal struct StreamRandom
{
    ulong _state;

    public StreamRandom(ulong stream, long seed, long epoch, long item)
    {
        ulong h = Mix(stream ^ 0x9E3779B97F4A7C15UL);
        h = Mix(h ^ (ulong)seed);
        h = Mix(h ^ (ulong)epoch);
        _state = Mix(h ^ (ulong)item);
    }

    /// <summary>Streams kept apart so that, say, the shuffle of epoch 3 never equals an image's augmentation draw.</summary>
    public const ulong ShuffleStream = 1, AugmentStream = 2;

    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [low, high).</summary>
    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>Uniform integer in [0, count) by multiply-high (bias below count / 2^64, far under any use here).</summary>
    public int NextInt(int count)
    {
        if (count <= 1) return 0;
        return (int)Math.BigMul(NextUInt64(), (ulong)count, out _);
    }
}
