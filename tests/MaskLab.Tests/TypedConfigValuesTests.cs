using MaskLab.Losses;
using MaskLab.Models;
using MaskLab.Runs;

namespace MaskLab.Tests;

/// <summary>
/// loss, class_weights and head_weights are typed when a config is read: a bad value fails there, naming the key,
/// and the text written back into config.yaml reads back to the same value.
/// </summary>
public class TypedConfigValuesTests
{
    static RunConfig With(params string[] sets) => RunConfig.Load(null, sets);

    [Fact]
    public void LossNamesOneOrTwoRegistryLossesSpeltAsTheRegistryDoes()
    {
        var mix = With("loss=Focal + F1", "loss_alpha=0.3").Loss;
        Assert.Equal(("focal", "f1"), (mix.First, mix.Second));
        Assert.Equal("focal+f1", mix.ToString());
        Assert.Null(With().Loss.Second);
        Assert.Equal("cross_entropy", With().ToMap()["loss"]);
        Assert.Equal(mix, RunConfig.FromMap(With("loss=focal+f1").ToMap(), "round trip").Loss);
    }

    [Theory]
    [InlineData("loss=hinge", "unknown loss 'hinge'")]
    [InlineData("loss=focal+hinge", "unknown loss 'hinge'")]
    [InlineData("loss=focal+f1+cross_entropy", "mixes more than two losses")]
    [InlineData("loss=", "loss needs a value")]
    [InlineData("head_weights=1,1", "head_weights '1,1' must be three numbers")]
    [InlineData("head_weights=1,-1,1", "'-1' is not a non-negative number")]
    [InlineData("head_weights=0,0,0", "are all 0")]
    [InlineData("class_weights=1,x", "'x' is not a number")]
    [InlineData("class_weights=0,0", "are all 0")]
    public void ABadValueFailsWhenTheConfigIsRead(string set, string message) =>
        Assert.Contains(message, Assert.Throws<MaskLabInputException>(() => With(set)).Message);

    [Fact]
    public void ClassWeightsAreBalancedAListOrNone()
    {
        Assert.Null(With("class_weights=none").ClassWeights);
        Assert.Null(With().ClassWeights);
        Assert.Same(ClassWeighting.Balanced, With("class_weights=Balanced").ClassWeights);
        var list = With("class_weights= 1, 2.5 ,0").ClassWeights!;
        Assert.Equal([1f, 2.5f, 0f], list.Values!);
        Assert.Equal("1,2.5,0", With("class_weights= 1, 2.5 ,0").ToMap()["class_weights"]);
        Assert.Equal(list, RunConfig.FromMap(With("class_weights=1,2.5,0").ToMap(), "round trip").ClassWeights);
        // The class count is known once the data is: a list of another length is refused there, naming both counts.
        Assert.Equal([1f, 2.5f, 0f], list.For([0, 1], 3));
        Assert.Contains("has 3 values; there are 18 classes", Assert.Throws<MaskLabInputException>(() => list.For([0, 1], 18)).Message);
        // balanced is computed from the training split's labels (scikit-learn's n / (C * count)).
        Assert.Equal([2f / 3, 1f, 2f], ClassWeighting.Balanced.For([0, 1, 0, 2, 1, 0], 3));
    }

    [Fact]
    public void HeadWeightsAreThreeNumbersForMaskGenderAndAge()
    {
        Assert.Equal(HeadLossWeights.Equal, With().HeadWeights);
        var w = With("head=multi", "head_weights=1, 2.5, 0").HeadSection.Weights;
        Assert.Equal(new HeadLossWeights(1, 2.5, 0), w);
        Assert.Equal([1, 2.5, 0], w.ToArray());
        Assert.Equal("1,2.5,0", With("head_weights=1, 2.5, 0").ToMap()["head_weights"]);
        Assert.Equal("1,1,1", With().ToMap()["head_weights"]);
    }

    [Fact]
    public void AMultiHeadRefusesClassWeightsOfTheEighteenClasses() =>
        Assert.Contains("head: multi weighs its losses with head_weights",
            Assert.Throws<MaskLabInputException>(() => With("head=multi", "class_weights=balanced").Validate()).Message);

    [Fact]
    public void TheDataLoadKeyComparesWhatDecidesThePhotosByValue()
    {
        static DataLoadKey Key(params string[] sets) => With(sets).DataSection.LoadKey;
        // How the photos are split or trained on does not change which are read: a sweep's runs share one decode.
        Assert.Equal(Key(), Key("seed=7", "val_ratio=0.3", "folds=5", "fold=2", "lr=0.01"));
        // The face crop's margin counts only where photos are cropped; the synthetic set's size only where no folder is named.
        Assert.Equal(Key("face_crop=none"), Key("face_crop=none", "face_margin=0.15"));
        Assert.NotEqual(Key(), Key("face_margin=0.15"));
        Assert.Equal(Key("data=/some/set"), Key("data=/some/set", "synth_people=300"));
        Assert.NotEqual(Key(), Key("synth_people=300"));
        Assert.NotEqual(Key(), Key("image_size=112x144"));
        Assert.NotEqual(Key(), Key("label_fixes=builtin"));
        Assert.NotEqual(Key(), Key("skip_bad=true"));
    }
}
