using static System.FormattableString;

namespace MaskLab.Data.Layout;

/// <summary>
/// Train / validation splits that keep every <see cref="Sample.Group"/> (a person for task data) in one part, so no
/// photo of a validation person is trained on, and that stratify on <see cref="Sample.Stratum"/> (gender x age band
/// per person; the class for image-folder data) so each part sees the rare bands, such as the 60-year-olds, in
/// proportion. Pure and deterministic for a seed: the same samples and seed give the same split on every machine.
/// </summary>
internal static class PersonSplit
{
    /// <summary>
    /// Holds out about <paramref name="valRatio"/> of the groups. In each stratum the groups are shuffled with the seed
    /// and its share, valRatio x its group count, goes to validation; the fractions left by rounding are handed out by
    /// largest remainder, so the total is round(valRatio x groups) and each stratum is within one group of its share.
    /// Returns ascending sample indices.
    /// </summary>
    public static (int[] Train, int[] Val) Holdout(IReadOnlyList<Sample> samples, double valRatio, int seed)
    {
        CheckRatio(valRatio);
        var strata = Strata(samples, seed);
        var groupCount = strata.Sum(s => s.Groups.Count);
        if (groupCount < 2)
            throw new MaskLabInputException($"a validation split needs at least 2 people (groups); the data has {groupCount}");

        var target = Math.Clamp((int)Math.Round(valRatio * groupCount, MidpointRounding.AwayFromZero), 1, groupCount - 1);
        var quota = new int[strata.Count];
        var fraction = new double[strata.Count];
        for (var s = 0; s < strata.Count; s++)
        {
            var ideal = valRatio * strata[s].Groups.Count;
            quota[s] = (int)Math.Floor(ideal);
            // Rounded so that floating-point noise does not decide which of two equal remainders wins.
            fraction[s] = Math.Round(ideal - quota[s], 9);
        }
        var tieBreak = new SplitRng(Mix(seed, -1));
        var order = Enumerable.Range(0, strata.Count)
            .Select(s => (s, Key: tieBreak.Next()))
            .OrderByDescending(t => fraction[t.s]).ThenBy(t => t.Key)
            .Select(t => t.s).ToArray();
        var left = target - quota.Sum();
        while (left > 0)
        {
            var gave = false;
            foreach (var s in order)
            {
                if (left == 0) break;
                if (quota[s] >= strata[s].Groups.Count) continue;
                quota[s]++;
                left--;
                gave = true;
            }
            if (!gave) break;
        }

        var train = new List<int>();
        var val = new List<int>();
        for (var s = 0; s < strata.Count; s++)
            for (var g = 0; g < strata[s].Groups.Count; g++)
                (g < quota[s] ? val : train).AddRange(strata[s].Groups[g].Members);
        return (Sorted(train), Sorted(val));
    }

    /// <summary>
    /// Assigns each group to one of <paramref name="k"/> folds, like scikit-learn's StratifiedGroupKFold: within each
    /// stratum the shuffled groups go one by one, largest first, to a fold holding the fewest groups of that stratum,
    /// and among those to the one with the fewest samples so far, so per-stratum counts differ by at most one and fold
    /// sizes stay balanced. Returns the fold (0..k-1) of every sample.
    /// </summary>
    public static int[] KFold(IReadOnlyList<Sample> samples, int k, int seed)
    {
        if (k < 2)
            throw new MaskLabInputException($"folds = {k}: k-fold needs at least 2 folds");
        var strata = Strata(samples, seed);
        var groupCount = strata.Sum(s => s.Groups.Count);
        if (k > groupCount)
            throw new MaskLabInputException(
                $"folds = {k} exceeds the {groupCount} {(groupCount == 1 ? "person (group)" : "people (groups)")} in the data: each fold needs at least one");

        var foldOf = new int[samples.Count];
        var foldSamples = new long[k];
        var foldGroups = new int[k];
        // Big strata first: they have the most freedom, and the small ones then even out the fold sizes.
        foreach (var stratum in strata.OrderByDescending(s => s.Groups.Count).ThenBy(s => s.Key))
        {
            var inStratum = new int[k];
            // Largest groups first, each to the lightest fold: the small ones then fill the gaps. The sort is stable,
            // so groups of equal size keep their shuffled order.
            foreach (var group in stratum.Groups.OrderByDescending(g => g.Members.Count))
            {
                var best = 0;
                for (var f = 1; f < k; f++)
                {
                    var better = inStratum[f] != inStratum[best] ? inStratum[f] < inStratum[best]
                        : foldSamples[f] != foldSamples[best] ? foldSamples[f] < foldSamples[best]
                        : foldGroups[f] < foldGroups[best];
                    if (better) best = f;
                }
                inStratum[best]++;
                foldSamples[best] += group.Members.Count;
                foldGroups[best]++;
                foreach (var i in group.Members) foldOf[i] = best;
            }
        }
        return foldOf;
    }

    /// <summary>The train and validation sample indices of one fold of a <see cref="KFold"/> assignment.</summary>
    public static (int[] Train, int[] Val) Fold(int[] foldOfSample, int fold)
    {
        var train = new List<int>();
        var val = new List<int>();
        for (var i = 0; i < foldOfSample.Length; i++) (foldOfSample[i] == fold ? val : train).Add(i);
        return (train.ToArray(), val.ToArray());
    }

    /// <summary>
    /// The competition baseline's image-level random split, kept only for the study that measures how much it
    /// overstates validation scores. It ignores groups: the other photos of a validation person are trained on, so
    /// the model is validated on faces it has seen and the score is inflated. Never use it to select models.
    /// </summary>
    public static (int[] Train, int[] Val) ImageLevel(IReadOnlyList<Sample> samples, double valRatio, int seed)
    {
        CheckRatio(valRatio);
        if (samples.Count < 2)
            throw new MaskLabInputException($"a validation split needs at least 2 images; the data has {samples.Count}");
        var order = Enumerable.Range(0, samples.Count).ToArray();
        new SplitRng(Mix(seed, 0)).Shuffle(order);
        var valCount = Math.Clamp((int)Math.Round(valRatio * samples.Count, MidpointRounding.AwayFromZero), 1, samples.Count - 1);
        return (Sorted(order[valCount..]), Sorted(order[..valCount]));
    }

    static void CheckRatio(double valRatio)
    {
        if (!(valRatio > 0 && valRatio < 1))
            throw new MaskLabInputException(Invariant($"val ratio {valRatio} must be between 0 and 1 (exclusive)"));
    }

    sealed record Group(List<int> Members, int Stratum);

    sealed record Stratum(int Key, List<Group> Groups);

    /// <summary>
    /// Groups in first-appearance order within each stratum, then shuffled with a generator seeded from the seed and
    /// the stratum, so one stratum's order does not depend on which other strata exist.
    /// </summary>
    static List<Stratum> Strata(IReadOnlyList<Sample> samples, int seed)
    {
        if (samples.Count == 0) throw new MaskLabInputException("there are no samples to split");
        var members = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var order = new List<string>();
        for (var i = 0; i < samples.Count; i++)
        {
            if (!members.TryGetValue(samples[i].Group, out var list))
            {
                members[samples[i].Group] = list = [];
                order.Add(samples[i].Group);
            }
            list.Add(i);
        }
        var strata = new SortedDictionary<int, List<Group>>();
        foreach (var key in order)
        {
            var list = members[key];
            // A person's photos share a stratum; should a group mix them (one id on two differently named folders),
            // its majority decides.
            var stratum = list.GroupBy(i => samples[i].Stratum)
                .OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
            if (!strata.TryGetValue(stratum, out var groups)) strata[stratum] = groups = [];
            groups.Add(new Group(list, stratum));
        }
        var result = new List<Stratum>(strata.Count);
        foreach (var (key, groups) in strata)
        {
            new SplitRng(Mix(seed, key + 1)).Shuffle(groups);
            result.Add(new Stratum(key, groups));
        }
        return result;
    }

    static int[] Sorted(IEnumerable<int> indices)
    {
        var array = indices.ToArray();
        Array.Sort(array);
        return array;
    }

    static ulong Mix(int seed, int stream) => ((ulong)(uint)seed << 32 | (uint)stream) ^ 0x5DEECE66DUL;

    /// <summary>
    /// SplitMix64: a fixed, documented generator, so splits stay the same across .NET versions (System.Random's seeded
    /// sequence is an implementation detail).
    /// </summary>
    sealed class SplitRng(ulong state)
    {
        public ulong Next()
        {
            var z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>Uniform in [0, n) by rejection, so small n carry no modulo bias.</summary>
        int Below(int n)
        {
            var limit = ulong.MaxValue - ulong.MaxValue % (ulong)n;
            ulong x;
            do x = Next(); while (x >= limit);
            return (int)(x % (ulong)n);
        }

        public void Shuffle<T>(IList<T> items)
        {
            for (var i = items.Count - 1; i > 0; i--)
            {
                var j = Below(i + 1);
                (items[i], items[j]) = (items[j], items[i]);
            }
        }
    }
}
