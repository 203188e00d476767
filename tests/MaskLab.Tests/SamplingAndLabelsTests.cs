using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Training;

namespace MaskLab.Tests;

public class SamplingAndLabelsTests
{
    [Fact]
    public void WeightedSamplerDrawsEveryClassAboutEquallyAndRepeatsPerEpoch()
    {
        // 900 / 90 / 10: the rare class must come up about a third of the time.
        var labels = Enumerable.Repeat(0L, 900).Concat(Enumerable.Repeat(1L, 90)).Concat(Enumerable.Repeat(2L, 10)).ToArray();
        var sampler = WeightedSampler.ClassBalanced(labels, 11);
        var counts = new double[3];
        for (int epoch = 0; epoch < 5; epoch++)
            foreach (var p in sampler(epoch)) counts[labels[p]]++;
        foreach (var c in counts) Assert.InRange(c / counts.Sum(), 0.30, 0.37);
        Assert.Equal(sampler(3), WeightedSampler.ClassBalanced(labels, 11)(3));
        Assert.NotEqual(sampler(3), sampler(4));
        // Within the rare class every photo is drawn, not just one.
        Assert.Equal(10, sampler(0).Concat(sampler(1)).Where(p => labels[p] == 2).Distinct().Count());
    }

    [Fact]
    public void TheLoaderFollowsTheSampler()
    {
        var samples = Enumerable.Range(0, 6).Select(i => new Sample($"/nowhere/{i}.png", i < 5 ? 0 : 1, $"p{i}")).ToArray();
        var options = new LoaderOptions(3, Shuffle: true, AugmentOptions.None, 1, DropLast: false, 4, 4)
        { Sampler = _ => [5, 5, 5, 0, 5, 5] };
        var loader = new BatchLoader(samples, [0, 1, 2, 3, 4, 5], s => s.Label, new ImageCache(4, 4), options);
        Assert.Equal([5, 5, 5, 0, 5, 5], loader.Order(0));
    }

    [Fact]
    public void AgeCutsMoveTrainingLabelsOnlyAndScoringKeeps30And60()
    {
        var person = new Person("1", Gender.Female, "Asian", 58, "000001_female_Asian_58");
        var sample = new Sample("x.jpg", TaskClasses.Encode(MaskState.Wear, Gender.Female, AgeBand.From30To59), "1", person, MaskState.Wear);
        var cuts = RunConfig.Load(null, ["age_cuts=30,58"]).Validate().AgeCuts;
        Assert.Equal(AgeBand.Over60, TaskClasses.AgeOf(sample.TrainingLabel(cuts)));
        Assert.Equal(AgeBand.From30To59, TaskClasses.AgeOf(sample.Label));
        Assert.Equal(AgeBand.From30To59, TaskClasses.AgeOf(sample.TrainingLabel(AgeCuts.Scoring)));
        var young = sample with { Person = person with { Age = 57 } };
        Assert.Equal(AgeBand.From30To59, TaskClasses.AgeOf(young.TrainingLabel(cuts)));
    }

    [Fact]
    public void ImageSplitIsOnlyForAHoldoutAndNamesTheKey()
    {
        Assert.Equal(SplitKind.Image, RunConfig.Load(null, ["split=image"]).Validate().Split);
        Assert.Contains("split", Assert.Throws<MaskLabInputException>(() => RunConfig.Load(null, ["split=random"]).Validate()).Message);
        Assert.Contains("split", Assert.Throws<MaskLabInputException>(() => RunConfig.Load(null, ["split=image", "folds=5"]).Validate()).Message);
    }
}
