namespace MaskLab.Data.Loading;

/// <summary>
/// Class-balanced sampling with replacement: each epoch draws as many positions as there are samples, each with
/// probability proportional to 1 / (its class's count), so every class is drawn about equally often however rare it
/// is (the 60+ bands here). The draw depends only on (seed, epoch).
/// </summary>
internal static class WeightedSampler
{
    // Kept apart from the loader's shuffle (1), augmentation (2) and mixing (3) streams.
    const ulong SamplerStream = 4;

    /// <summary>An epoch order for <see cref="LoaderOptions.Sampler"/>: positions into <paramref name="labels"/>.</summary>
    public static Func<int, int[]> ClassBalanced(IReadOnlyList<long> labels, int seed)
    {
        if (labels.Count == 0) throw new ArgumentException("no samples to draw from", nameof(labels));
        var counts = new Dictionary<long, int>();
        foreach (var l in labels) counts[l] = counts.GetValueOrDefault(l) + 1;
        var cumulative = new double[labels.Count];
        double total = 0;
        for (int i = 0; i < labels.Count; i++) cumulative[i] = total += 1.0 / counts[labels[i]];
        return epoch =>
        {
            var rng = new StreamRandom(SamplerStream, seed, epoch, 0);
            var order = new int[labels.Count];
            for (int k = 0; k < order.Length; k++)
            {
                double u = rng.NextDouble() * total;
                int pos = Array.BinarySearch(cumulative, u);
                if (pos < 0) pos = ~pos;
                order[k] = Math.Min(pos, order.Length - 1);
            }
            return order;
        };
    }
}
