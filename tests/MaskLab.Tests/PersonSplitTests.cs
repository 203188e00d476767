using MaskLab.Data.Layout;

namespace MaskLab.Tests;

public class PersonSplitTests
{
    /// <summary>
    /// People shaped like the real set: about 61 % female, few 60-year-olds, seven photos each (or 5..7 when
    /// <paramref name="varyPhotos"/>, to test balance with uneven groups).
    /// </summary>
    static List<Sample> People(int count, int seed = 7, bool varyPhotos = false)
    {
        var rng = new Random(seed);
        var samples = new List<Sample>();
        for (var p = 0; p < count; p++)
        {
            var gender = rng.NextDouble() < 0.61 ? Gender.Female : Gender.Male;
            var r = rng.NextDouble();
            var age = r < 0.07 ? 60 : r < 0.5 ? rng.Next(18, 30) : rng.Next(30, 60);
            var id = $"{p:000000}";
            var person = new Person(id, gender, "Asian", age, $"{id}_{gender}_Asian_{age}");
            var photos = varyPhotos ? rng.Next(5, 8) : 7;
            for (var i = 0; i < photos; i++)
            {
                var mask = i < 5 ? MaskState.Wear : i == 5 ? MaskState.Incorrect : MaskState.NotWear;
                samples.Add(new Sample($"{person.Folder}/{i}.jpg", TaskClasses.Encode(mask, gender, AgeCuts.Scoring.Band(age)), id, person, mask));
            }
        }
        return samples;
    }

    /// <summary>Image-folder samples: each file its own group, stratified by class.</summary>
    static List<Sample> Files(int[] perClass) =>
        perClass.SelectMany((n, c) => Enumerable.Range(0, n).Select(i => new Sample($"{c}/{i}.png", c, $"{c}/{i}.png"))).ToList();

    static void AssertPartition(int count, params int[][] parts)
    {
        var all = parts.SelectMany(p => p).ToList();
        Assert.Equal(count, all.Count);
        Assert.Equal(Enumerable.Range(0, count), all.Order());
    }

    static void AssertNoGroupCrosses(IReadOnlyList<Sample> samples, int[] a, int[] b)
    {
        var groupsA = a.Select(i => samples[i].Group).ToHashSet();
        Assert.DoesNotContain(b, i => groupsA.Contains(samples[i].Group));
    }

    // ---- holdout ------------------------------------------------------------------------------------------------

    [Fact]
    public void Holdout_is_a_leak_free_partition()
    {
        var samples = People(600);
        var (train, val) = PersonSplit.Holdout(samples, 0.2, 42);

        AssertPartition(samples.Count, train, val);
        AssertNoGroupCrosses(samples, train, val);
        Assert.Equal(train.Order(), train);
        Assert.Equal(val.Order(), val);
    }

    [Theory]
    [InlineData(600, 0.2)]
    [InlineData(600, 0.1)]
    [InlineData(600, 0.33)]
    [InlineData(601, 0.5)]
    [InlineData(37, 0.2)]
    [InlineData(9, 0.25)]
    public void Holdout_takes_the_ratio_of_groups_overall_and_per_stratum(int people, double ratio)
    {
        var samples = People(people, seed: people);
        var (_, val) = PersonSplit.Holdout(samples, ratio, 1);

        var valGroups = val.Select(i => samples[i].Group).ToHashSet();
        Assert.Equal(Math.Clamp((int)Math.Round(ratio * people, MidpointRounding.AwayFromZero), 1, people - 1), valGroups.Count);
        Assert.InRange((double)val.Length / samples.Count, ratio - 1.0 / people - 1e-9, ratio + 1.0 / people + 1e-9);

        foreach (var stratum in samples.GroupBy(s => s.Stratum))
        {
            var groups = stratum.Select(s => s.Group).Distinct().ToList();
            var inVal = groups.Count(valGroups.Contains);
            Assert.InRange(inVal, Math.Floor(ratio * groups.Count), Math.Ceiling(ratio * groups.Count));
        }
    }

    [Fact]
    public void Holdout_keeps_the_rare_band_in_both_parts()
    {
        var samples = People(600);
        var (train, val) = PersonSplit.Holdout(samples, 0.2, 42);
        foreach (var stratum in samples.Select(s => s.Stratum).Distinct())
        {
            Assert.Contains(val, i => samples[i].Stratum == stratum);
            Assert.Contains(train, i => samples[i].Stratum == stratum);
        }
    }

    [Fact]
    public void Holdout_is_deterministic_for_a_seed_and_differs_for_another()
    {
        var samples = People(200);
        var a = PersonSplit.Holdout(samples, 0.2, 42);
        var b = PersonSplit.Holdout(samples, 0.2, 42);
        var c = PersonSplit.Holdout(samples, 0.2, 43);
        Assert.Equal(a.Val, b.Val);
        Assert.Equal(a.Train, b.Train);
        Assert.NotEqual(a.Val, c.Val);
    }

    [Fact]
    public void Holdout_stratifies_image_folder_samples_by_class()
    {
        var samples = Files([50, 30, 10, 5]);
        var (train, val) = PersonSplit.Holdout(samples, 0.2, 3);
        AssertPartition(samples.Count, train, val);
        Assert.Equal([10, 6, 2, 1], Enumerable.Range(0, 4).Select(c => val.Count(i => samples[i].Label == c)));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-0.2)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Holdout_rejects_ratio_outside_zero_to_one(double ratio)
    {
        var e = Assert.Throws<MaskLabInputException>(() => PersonSplit.Holdout(People(10), ratio, 1));
        Assert.Contains($"val ratio {ratio.ToString(System.Globalization.CultureInfo.InvariantCulture)}", e.Message);
        Assert.Throws<MaskLabInputException>(() => PersonSplit.ImageLevel(People(10), ratio, 1));
    }

    [Fact]
    public void Holdout_needs_two_groups()
    {
        var e = Assert.Throws<MaskLabInputException>(() => PersonSplit.Holdout(People(1), 0.2, 1));
        Assert.Contains("the data has 1", e.Message);
        Assert.Throws<MaskLabInputException>(() => PersonSplit.Holdout([], 0.2, 1));
    }

    [Fact]
    public void Holdout_of_two_people_puts_one_in_each_part()
    {
        var samples = People(2);
        var (train, val) = PersonSplit.Holdout(samples, 0.01, 5);
        Assert.Single(train.Select(i => samples[i].Group).Distinct());
        Assert.Single(val.Select(i => samples[i].Group).Distinct());
    }

    // ---- k-fold -------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(5, false)]
    [InlineData(4, false)]
    [InlineData(5, true)]
    [InlineData(3, true)]
    public void KFold_puts_each_group_in_one_fold_with_balanced_counts(int k, bool varyPhotos)
    {
        var samples = People(600, varyPhotos: varyPhotos);
        var fold = PersonSplit.KFold(samples, k, 42);

        Assert.Equal(samples.Count, fold.Length);
        Assert.All(fold, f => Assert.InRange(f, 0, k - 1));
        var foldOfGroup = samples.Select((s, i) => (s.Group, Fold: fold[i])).Distinct().ToList();
        Assert.Equal(600, foldOfGroup.Count);

        var groupsPerFold = Enumerable.Range(0, k).Select(f => foldOfGroup.Count(g => g.Fold == f)).ToList();
        // Uneven groups trade a group of imbalance for balance in photos, which is what a fold trains on.
        Assert.True(groupsPerFold.Max() - groupsPerFold.Min() <= (varyPhotos ? 2 : 1), string.Join(",", groupsPerFold));
        var samplesPerFold = Enumerable.Range(0, k).Select(f => fold.Count(x => x == f)).ToList();
        Assert.True(samplesPerFold.Max() - samplesPerFold.Min() <= 7, string.Join(",", samplesPerFold));

        foreach (var stratum in samples.GroupBy(s => s.Stratum))
        {
            var groups = stratum.Select(s => s.Group).Distinct().ToHashSet();
            var perFold = Enumerable.Range(0, k).Select(f => foldOfGroup.Count(g => g.Fold == f && groups.Contains(g.Group))).ToList();
            Assert.True(perFold.Max() - perFold.Min() <= 1, $"stratum {stratum.Key}: {string.Join(",", perFold)}");
        }
    }

    [Fact]
    public void KFold_folds_are_leak_free_holdouts()
    {
        var samples = People(100);
        var fold = PersonSplit.KFold(samples, 5, 1);
        for (var f = 0; f < 5; f++)
        {
            var (train, val) = PersonSplit.Fold(fold, f);
            AssertPartition(samples.Count, train, val);
            AssertNoGroupCrosses(samples, train, val);
            Assert.All(val, i => Assert.Equal(f, fold[i]));
        }
    }

    [Fact]
    public void KFold_is_deterministic_for_a_seed_and_differs_for_another()
    {
        var samples = People(200);
        Assert.Equal(PersonSplit.KFold(samples, 5, 42), PersonSplit.KFold(samples, 5, 42));
        Assert.NotEqual(PersonSplit.KFold(samples, 5, 42), PersonSplit.KFold(samples, 5, 7));
    }

    [Fact]
    public void KFold_stratifies_image_folder_samples_by_class()
    {
        var samples = Files([20, 10, 5]);
        var fold = PersonSplit.KFold(samples, 5, 9);
        for (var c = 0; c < 3; c++)
        {
            var perFold = Enumerable.Range(0, 5).Select(f => Enumerable.Range(0, samples.Count).Count(i => fold[i] == f && samples[i].Label == c)).Distinct();
            Assert.Single(perFold);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(11)]
    public void KFold_rejects_k_outside_two_to_group_count(int k)
    {
        var e = Assert.Throws<MaskLabInputException>(() => PersonSplit.KFold(People(10), k, 1));
        Assert.Contains($"folds = {k}", e.Message);
    }

    [Fact]
    public void KFold_with_k_equal_to_groups_is_leave_one_group_out()
    {
        var samples = People(6);
        var fold = PersonSplit.KFold(samples, 6, 1);
        Assert.Equal(6, samples.Select((s, i) => (s.Group, fold[i])).Distinct().Select(x => x.Item2).Distinct().Count());
    }

    // ---- the leaky image-level split ----------------------------------------------------------------------------

    [Fact]
    public void ImageLevel_splits_images_and_leaks_people()
    {
        var samples = People(600);
        var (train, val) = PersonSplit.ImageLevel(samples, 0.2, 42);

        AssertPartition(samples.Count, train, val);
        Assert.Equal((int)Math.Round(0.2 * samples.Count), val.Length);
        var trainGroups = train.Select(i => samples[i].Group).ToHashSet();
        var leaked = val.Count(i => trainGroups.Contains(samples[i].Group));
        Assert.True(leaked > val.Length / 2, $"only {leaked} of {val.Length} validation photos have their person in training");
        Assert.Equal(val, PersonSplit.ImageLevel(samples, 0.2, 42).Val);
    }
}
