using MaskLab.Training;

namespace MaskLab.Tests;

/// <summary>
/// The study files, expanded by the sweep command's own reader: every run must be a valid config, so a typo in a
/// study fails here and not an hour into a sweep.
/// </summary>
public class StudyConfigTests
{
    static string ConfigsDir([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "configs"));

    static List<RunConfig> Expand(string file) => SweepPlan.Expand(SweepSpec.Load(file)).Runs.Select(r => r.Config).ToList();

    public static TheoryData<string> StudyFiles() =>
        new(Directory.GetFiles(ConfigsDir(), "*-study.yaml").Select(Path.GetFileName).Order()!);

    [Theory]
    [MemberData(nameof(StudyFiles))]
    public void EveryStudyExpandsIntoValidRuns(string file)
    {
        var plan = SweepPlan.Expand(SweepSpec.Load(Path.Combine(ConfigsDir(), file)));
        Assert.NotEmpty(plan.Runs);
        Assert.Equal(plan.Runs.Count, plan.Runs.Select(r => r.Name).Distinct().Count());
    }

    [Fact]
    public void CutmixStudyComparesNoneCutmixVerticalAndMixup()
    {
        var configs = Expand(Path.Combine(ConfigsDir(), "cutmix-study.yaml"));
        Assert.Equal(8, configs.Count);
        Assert.Contains(configs, c => c is { Cutmix: 0, CutmixVertical: 0, Mixup: 0 });
        Assert.Contains(configs, c => c.Cutmix > 0);
        Assert.Contains(configs, c => c.CutmixVertical > 0);
        Assert.Contains(configs, c => c.Mixup > 0);
    }

    [Fact]
    public void AgeReadoutStudyTrainsAtTheThresholdItStartedFrom()
    {
        var configs = Expand(Path.Combine(ConfigsDir(), "age-readout-study.yaml"));
        Assert.Equal(9, configs.Count);
        Assert.All(configs, c => Assert.Equal(0.5, c.AgeOverThreshold));
        // It measured the recipe of its day, which trained 10 epochs at 96x128.
        Assert.All(configs, c => Assert.Equal((96, 128, 10), (c.ImageSize.Width, c.ImageSize.Height, c.Epochs)));
        Assert.All(configs, c => Assert.Equal(CheckpointChoice.Best, c.EvalCheckpoint));
        Assert.Equal(CheckpointChoice.Last, RunConfig.Load(Path.Combine(ConfigsDir(), "main.yaml")).EvalCheckpoint);
        Assert.Equal(new[] { 1, 2, 3 }, configs.Select(c => c.Seed).Distinct().Order());
    }

    [Fact]
    public void RecipeStudyHoldsTheRecipeAgainstTheSameTimeSpentOnOtherSizes()
    {
        var configs = Expand(Path.Combine(ConfigsDir(), "recipe-study.yaml"));
        Assert.Equal(30, configs.Count);
        var main = RunConfig.Load(Path.Combine(ConfigsDir(), "main.yaml"));
        Assert.Equal(3, configs.Count(c => c.ToMap().Where(kv => kv.Key != "seed").SequenceEqual(main.ToMap().Where(kv => kv.Key != "seed"))));
        foreach (var (w, h, epochs) in new[] { (96, 128, 10), (128, 160, 6), (160, 200, 4), (112, 112, 10), (main.ImageSize.Width, main.ImageSize.Height, main.Epochs) })
            Assert.Contains(configs, c => (c.ImageSize.Width, c.ImageSize.Height, c.Epochs) == (w, h, epochs) && c.FaceCrop == main.FaceCrop && c.AgeHead == main.AgeHead);
    }

    [Fact]
    public void AgeCutStudyMovesOnlyTheUpperCut()
    {
        var configs = Expand(Path.Combine(ConfigsDir(), "age-cut-study.yaml"));
        Assert.Equal(new[] { 57, 58, 59, 60 }, configs.Select(c => c.AgeCuts.Upper).Distinct().Order());
        Assert.All(configs, c => Assert.Equal(30, c.AgeCuts.Lower));
    }

    [Fact]
    public void PrecisionStudyRunsBothPrecisionsOverThreeSeeds()
    {
        var configs = Expand(Path.Combine(ConfigsDir(), "precision-study.yaml"));
        foreach (var precision in new[] { Precision.Fp32, Precision.Bf16 })
            Assert.Equal(3, configs.Count(c => c.Model == "resnet18" && c.Precision == precision));
    }

    [Fact]
    public void SplitStudyComparesPersonAndImageSplits()
    {
        var configs = Expand(Path.Combine(ConfigsDir(), "split-study.yaml"));
        Assert.Equal(new[] { SplitKind.Person, SplitKind.Image }, configs.Select(c => c.Split).Distinct().Order());
        Assert.All(configs, c => Assert.True(c.Folds <= 1));
    }
}
