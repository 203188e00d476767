using MaskLab.Data.Layout;
using MaskLab.Synthetic;

namespace MaskLab.Tests;

/// <summary>One larger set of tiny pictures, shared by the statistics tests.</summary>
public sealed class LargeTinySet : IDisposable
{
    public ScratchDir Dir { get; } = new();
    public SynthOptions Options { get; } = new(People: 600, EvalPeople: 60, Width: 24, Height: 32, Seed: 42);
    public string Root { get; }
    public SynthReport Report { get; }

    public LargeTinySet()
    {
        Root = Dir.Sub("set");
        Report = SyntheticGenerator.Generate(Root, Options);
    }

    public void Dispose() => Dir.Dispose();
}

public sealed class SyntheticStatisticsTests(LargeTinySet set) : IClassFixture<LargeTinySet>
{
    // Real per-class train image counts (DOMAIN), classes 0..17.
    static readonly double[] RealClassCounts = [2780, 2050, 430, 3640, 4065, 535, 556, 410, 86, 728, 813, 107, 556, 410, 86, 728, 813, 107];

    sealed record Row(string Id, string Gender, int Age, string Folder);

    IReadOnlyList<Row> TrainRows() => SynthFiles.Lines(Path.Combine(set.Root, "train", "train.csv")).Skip(1)
        .Select(l => l.Split(',')).Select(f => new Row(f[0], f[1], int.Parse(f[3]), f[4])).ToArray();

    sealed record Truth(string Path, int Given, int True, int TrueAge, string Noise);

    IReadOnlyList<Truth> TruthRows() => SynthFiles.Lines(Path.Combine(set.Root, SyntheticGenerator.TruthFile)).Skip(1)
        .Select(l => l.Split(',')).Select(f => new Truth(f[0], int.Parse(f[1]), int.Parse(f[2]), int.Parse(f[3]), f[4])).ToArray();

    [Fact]
    public void GenderAndAges_FollowTheRealSet()
    {
        var truth = TruthRows();
        var people = truth.GroupBy(t => Path.GetDirectoryName(t.Path)).Select(g => g.First()).ToArray();
        Assert.Equal(600, people.Length);

        var female = people.Count(p => TaskClasses.GenderOf(p.True) == Gender.Female) / 600.0;
        Assert.InRange(female, 0.58, 0.64);

        var ages = people.Select(p => p.TrueAge).ToArray();
        Assert.All(ages, a => Assert.InRange(a, 18, 60));
        Assert.InRange(ages.Count(a => a == 60) / 600.0, 190 / 2700.0 - 0.012, 190 / 2700.0 + 0.012);
        Assert.InRange(ages.Count(a => a < 30) / 600.0, 0.43, 0.53);
        Assert.InRange(ages.Count(a => a is >= 50 and < 60) / 600.0, 0.25, 0.40);
        Assert.True(ages.Count(a => a is >= 30 and < 45) < ages.Count(a => a is >= 50 and < 60) / 3);
        Assert.Contains(ages, a => a is >= 20 and < 30);
        Assert.Equal(0, ages.Count(a => a is > 60 or (> 59 and < 60)));
    }

    [Fact]
    public void ClassProportions_AreNearTheRealTable()
    {
        var truth = TruthRows();
        Assert.Equal(4200, truth.Count);
        var total = RealClassCounts.Sum();
        for (var c = 0; c < TaskClasses.Count; c++)
        {
            var share = truth.Count(t => t.True == c) / (double)truth.Count;
            Assert.InRange(share, RealClassCounts[c] / total - 0.01, RealClassCounts[c] / total + 0.01);
        }
    }

    [Fact]
    public void LabelNoise_HasTheRealRate_AndEveryWrongPhotoIsListed()
    {
        var truth = TruthRows();
        var wrong = truth.Where(t => t.Given != t.True).ToArray();
        Assert.InRange(wrong.Length / (double)truth.Count, 0.008, 0.014);
        Assert.Equal(set.Report.NoisyPhotos, wrong.Length);
        Assert.All(wrong, t => Assert.NotEqual("", t.Noise));
        Assert.All(truth.Where(t => t.Given == t.True), t => Assert.Equal("", t.Noise));
        Assert.True(wrong.Select(t => t.Noise).Distinct().Count() >= 2);

        // Swaps exchange exactly the incorrect and normal photos of one person.
        foreach (var t in wrong.Where(t => t.Noise == "swapped_incorrect_normal"))
        {
            Assert.Equal(TaskClasses.GenderOf(t.Given), TaskClasses.GenderOf(t.True));
            Assert.Equal(TaskClasses.AgeOf(t.Given), TaskClasses.AgeOf(t.True));
            Assert.NotEqual(TaskClasses.MaskOf(t.Given), TaskClasses.MaskOf(t.True));
        }
        foreach (var t in wrong.Where(t => t.Noise == "wrong_gender"))
            Assert.NotEqual(TaskClasses.GenderOf(t.Given), TaskClasses.GenderOf(t.True));
        foreach (var t in wrong.Where(t => t.Noise == "wrong_age_band"))
            Assert.Equal(1, Math.Abs((int)TaskClasses.AgeOf(t.Given) - (int)TaskClasses.AgeOf(t.True)));
    }

    [Fact]
    public void GivenClasses_AreWhatTheFolderAndFileNamesSay()
    {
        var truth = TruthRows().ToDictionary(t => t.Path);
        var rows = TrainRows();
        Assert.Equal(600, rows.Count);
        foreach (var r in rows)
        {
            var dir = Path.Combine(set.Root, "train", "images", r.Folder);
            foreach (var file in Directory.GetFiles(dir).Select(Path.GetFileName).Where(n => !n!.StartsWith("._")))
            {
                var mask = TaskClasses.MaskFromPhotoName(Path.GetFileNameWithoutExtension(file)!);
                Assert.NotNull(mask);
                var gender = r.Gender == "male" ? Gender.Male : Gender.Female;
                var expected = TaskClasses.Encode(mask.Value, gender, AgeCuts.Scoring.Band(r.Age));
                Assert.Equal(expected, truth[$"train/images/{r.Folder}/{file}"].Given);
            }
        }
    }

    [Fact]
    public void Extensions_AndAppleDoubleJunk_LookLikeRealCopies()
    {
        var files = SynthFiles.List(Path.Combine(set.Root, "train", "images"));
        var photos = files.Where(f => !Path.GetFileName(f).StartsWith("._")).ToArray();
        var junk = files.Where(f => Path.GetFileName(f).StartsWith("._")).ToArray();
        Assert.Equal(4200, photos.Length);
        double Share(string ext) => photos.Count(f => f.EndsWith(ext)) / (double)photos.Length;
        Assert.InRange(Share(".jpg"), 0.8, 0.97);
        Assert.InRange(Share(".jpeg"), 0.01, 0.12);
        Assert.InRange(Share(".png"), 0.01, 0.12);
        foreach (var ext in new[] { ".png", ".jpeg" })
        {
            using var bmp = SkiaSharp.SKBitmap.Decode(Path.Combine(set.Root, "train", "images", photos.First(f => f.EndsWith(ext))));
            Assert.Equal((24, 32), (bmp.Width, bmp.Height));
        }
        Assert.NotEmpty(junk);
        Assert.All(junk, j => Assert.InRange(new FileInfo(Path.Combine(set.Root, "train", "images", j)).Length, 8, 64));
        Assert.DoesNotContain(SynthFiles.List(Path.Combine(set.Root, "eval")), f => Path.GetFileName(f).StartsWith("._"));
    }

    [Fact]
    public void EvalAnswers_FollowTheSameMix()
    {
        var answers = SynthFiles.Lines(Path.Combine(set.Root, "eval", "answers.csv")).Skip(1)
            .Select(l => int.Parse(l.Split(',')[1])).ToArray();
        Assert.Equal(420, answers.Length);
        Assert.Equal(300, answers.Count(c => TaskClasses.MaskOf(c) == MaskState.Wear));
        Assert.Equal(60, answers.Count(c => TaskClasses.MaskOf(c) == MaskState.Incorrect));
        Assert.InRange(answers.Count(c => TaskClasses.GenderOf(c) == Gender.Female) / 420.0, 0.55, 0.67);
    }
}
