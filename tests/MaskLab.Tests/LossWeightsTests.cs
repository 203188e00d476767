using MaskLab.Losses;

namespace MaskLab.Tests;

public class LossWeightsTests
{
    [Fact]
    public void BalancedIsSklearns()
    {
        // n = 6, C = 3, counts (3, 2, 1): 6 / (3 * count) = (2/3, 1, 2)
        Assert.Equal([2f / 3, 1f, 2f], ClassWeights.Balanced([0, 1, 0, 2, 1, 0], 3));
        // counts (3, 1, 0) over n = 4: 4/9, 4/3, and 1 for the class with no samples
        Assert.Equal([4f / 9, 4f / 3, 1f], ClassWeights.Balanced([0, 0, 0, 1], 3));
    }

    [Fact]
    public void BalancedRejectsLabelsOutsideTheClasses() =>
        Assert.Contains("label 3", Assert.Throws<MaskLabInputException>(() => ClassWeights.Balanced([0, 3], 3)).Message);

    [Fact]
    public void ParseReadsACommaList()
    {
        Assert.Equal([1f, 2.5f, 0f], ClassWeights.Parse(" 1, 2.5 ,0", 3));
        Assert.Equal([1f, 2.5f, 0f], ClassWeights.Parse(ClassWeights.Format([1f, 2.5f, 0f]), 3));
    }

    [Theory]
    [InlineData("1,2", "'1,2'")]
    [InlineData("1,2,3,4", "'1,2,3,4'")]
    [InlineData("1,x,3", "'x'")]
    [InlineData("1,,3", "''")]
    [InlineData("1,NaN,3", "'NaN'")]
    [InlineData("1,-2,3", "-2")]
    [InlineData("0,0,0", "'0,0,0'")]
    public void ParseNamesBadValues(string text, string named) =>
        Assert.Contains(named, Assert.Throws<MaskLabInputException>(() => ClassWeights.Parse(text, 3)).Message);
}
