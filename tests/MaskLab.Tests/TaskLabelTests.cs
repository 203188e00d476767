using MaskLab.Data.Layout;

namespace MaskLab.Tests;

public class TaskLabelTests
{
    [Fact]
    public void EveryClassRoundTripsThroughItsAttributes()
    {
        for (int c = 0; c < TaskClasses.Count; c++)
        {
            var (m, g, a) = TaskClasses.Decode(c);
            Assert.Equal(c, TaskClasses.Encode(m, g, a));
            Assert.Equal(m, TaskClasses.MaskOf(c));
            Assert.Equal(g, TaskClasses.GenderOf(c));
            Assert.Equal(a, TaskClasses.AgeOf(c));
        }
        Assert.Equal(18, TaskClasses.Names.Distinct().Count());
    }

    [Fact]
    public void CodecMatchesTheTaskDefinition()
    {
        // class = mask * 6 + gender * 3 + age
        Assert.Equal(0, TaskClasses.Encode(MaskState.Wear, Gender.Male, AgeBand.Under30));
        Assert.Equal(4, TaskClasses.Encode(MaskState.Wear, Gender.Female, AgeBand.From30To59));
        Assert.Equal(11, TaskClasses.Encode(MaskState.Incorrect, Gender.Female, AgeBand.Over60));
        Assert.Equal(17, TaskClasses.Encode(MaskState.NotWear, Gender.Female, AgeBand.Over60));
        Assert.Equal("no mask / female / 60+", TaskClasses.Name(17));
        Assert.Throws<ArgumentOutOfRangeException>(() => TaskClasses.Decode(18));
    }

    [Theory]
    [InlineData(18, AgeBand.Under30)]
    [InlineData(29, AgeBand.Under30)]
    [InlineData(30, AgeBand.From30To59)]
    [InlineData(59, AgeBand.From30To59)]
    [InlineData(60, AgeBand.Over60)]
    public void ScoringCutsAre30And60(int age, AgeBand band) => Assert.Equal(band, AgeCuts.Scoring.Band(age));

    [Fact]
    public void TrainingCutsMoveOnlyTheTrainingLabel()
    {
        var person = new Person("000001", Gender.Female, "Asian", 58, "000001_female_Asian_58");
        var sample = new Sample("x.jpg", TaskClasses.Encode(MaskState.Wear, Gender.Female, AgeBand.From30To59), "000001", person, MaskState.Wear);
        Assert.Equal(4, sample.Label);
        Assert.Equal(4, sample.TrainingLabel(AgeCuts.Scoring));
        Assert.Equal(5, sample.TrainingLabel(AgeCuts.Parse("30,58")));
    }

    [Theory]
    [InlineData("30")]
    [InlineData("30,abc")]
    [InlineData("60,30")]
    [InlineData("0,30")]
    public void BadAgeCutsAreRejected(string text) => Assert.Throws<FormatException>(() => AgeCuts.Parse(text));

    [Theory]
    [InlineData("mask1", MaskState.Wear)]
    [InlineData("mask5", MaskState.Wear)]
    [InlineData("incorrect_mask", MaskState.Incorrect)]
    [InlineData("normal", MaskState.NotWear)]
    [InlineData("mask6", null)]
    public void PhotoNamesGiveTheMaskState(string name, MaskState? expected) => Assert.Equal(expected, TaskClasses.MaskFromPhotoName(name));
}
