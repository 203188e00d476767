using MaskLab.Data.Faces;

namespace MaskLab.Tests;

/// <summary>The face crop, label fix and pseudo-label study files compare what they say they compare.</summary>
public class DataStudyConfigTests
{
    static string ConfigsDir([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "configs"));

    static List<RunConfig> Expand(string name) =>
        SweepPlan.Expand(SweepSpec.Load(Path.Combine(ConfigsDir(), name))).Runs.Select(r => r.Config).ToList();

    [Fact]
    public void FaceCropStudy_ComparesWholePhotosWithFaceCrops_At3Seeds()
    {
        var runs = Expand("face-crop-study.yaml");
        Assert.Equal(6, runs.Count);
        foreach (var mode in new[] { FaceCropMode.None, FaceCropMode.Detect })
            Assert.Equal([1, 2, 3], runs.Where(r => r.FaceCrop == mode).Select(r => r.Seed).Order());
        // Apart from the crop, the two settings train alike (and load their photos apart).
        var none = runs.First(r => r.FaceCrop == FaceCropMode.None).ToMap();
        var detect = runs.First(r => r.FaceCrop == FaceCropMode.Detect).ToMap();
        Assert.Equal(["face_crop"], none.Keys.Where(k => none[k] != detect[k]));
    }

    [Fact]
    public void LabelFixStudy_ComparesFixedWithLeftIn_OnTheSameData()
    {
        var runs = Expand("label-fix-study.yaml");
        Assert.Equal(6, runs.Count);
        Assert.Equal(3, runs.Count(r => r.DataSection.LabelFixes is null));
        Assert.All(runs.Where(r => r.DataSection.LabelFixes is not null), r => Assert.EndsWith("train_truth.csv", r.LabelFixes));
        Assert.Single(runs.Select(r => r.Data).Distinct());
    }

    [Fact]
    public void PseudoLabelStudy_MatchesTheFaceCropStudysTeachers_ButForThePseudoLabels()
    {
        var students = Expand("pseudo-label-study.yaml");
        var teachers = Expand("face-crop-study.yaml").Where(r => r.FaceCrop == FaceCropMode.None).ToList();
        Assert.Equal([0.9], students.Select(s => s.PseudoThreshold).Distinct());
        Assert.Equal([1, 2, 3], students.Select(s => s.Seed).Order());
        foreach (var student in students)
        {
            var s = student.ToMap();
            var t = teachers.Single(x => x.Seed == student.Seed).ToMap();
            var differ = s.Keys.Where(k => s[k] != t[k]).ToArray();
            Assert.Contains("pseudo_labels", differ);
            Assert.Subset(new HashSet<string> { "pseudo_labels", "pseudo_threshold" }, differ.ToHashSet());
        }
    }
}
