using System.Text.Json;
using MaskLab.Data.Layout;

namespace MaskLab.Tests;

/// <summary>The synthetic set's latent truth and the ceiling fitted on it.</summary>
[Collection(CliConsoleCollection.Name)]
public class CeilingTests
{
    [Fact]
    public void Latent_truth_has_every_photo_with_its_true_class_and_cues_that_follow_the_attributes()
    {
        var photos = LatentTruth.Read(TinySynthetic.Root);
        var o = TinySynthetic.Options;
        Assert.Equal((o.People + o.EvalPeople) * 7, photos.Count);

        var answers = File.ReadAllLines(Path.Combine(TinySynthetic.Root, "eval", "answers.csv")).Skip(1)
            .Select(l => l.Split(',')).ToDictionary(f => "eval/images/" + f[0], f => int.Parse(f[1]));
        var trainTruth = File.ReadAllLines(Path.Combine(TinySynthetic.Root, SyntheticGenerator.TruthFile)).Skip(1)
            .Select(l => l.Split(',')).ToDictionary(f => f[0], f => int.Parse(f[2]));
        foreach (var p in photos)
        {
            Assert.Equal(p.IsEval ? answers[p.Path] : trainTruth[p.Path], p.TrueClass);
            Assert.Equal(TaskClasses.MaskOf(p.TrueClass), p.ShownMask);
            Assert.Equal(TaskClasses.GenderOf(p.TrueClass), p.Gender);
        }
        double Mean(IEnumerable<LatentPhoto> ps, string cue) => ps.Average(p => p.Numbers[Array.IndexOf(LatentTruth.NumberNames, cue)]);
        Assert.True(Mean(photos.Where(p => p.Gender == Gender.Male), "masculinity") > Mean(photos.Where(p => p.Gender == Gender.Female), "masculinity") + 1);
        Assert.True(Mean(photos.Where(p => p.Age >= 50), "wrinkle") > Mean(photos.Where(p => p.Age < 30), "wrinkle") + 0.3);
    }

    [Fact]
    public void An_older_set_gets_the_same_latent_truth_on_demand()
    {
        var dir = TinySynthetic.CopyTo(Directory.CreateTempSubdirectory("masklab-latent-").FullName);
        var file = Path.Combine(dir, LatentTruth.FileName);
        var written = File.ReadAllBytes(file);
        File.Delete(file);
        Assert.Equal(file, LatentTruth.Ensure(dir));
        Assert.Equal(written, File.ReadAllBytes(file));
    }

    [Fact]
    public void The_ceiling_reads_mask_exactly_and_gender_and_age_far_above_chance()
    {
        var r = CliHarness.Run("ceiling", "--data", TinySynthetic.Root, "--fit-people", "3000", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var json = JsonDocument.Parse(r.LastStdoutLine);
        var root = json.RootElement;
        Assert.Equal(1.0, root.GetProperty("mask_f1").GetDouble());
        Assert.True(root.GetProperty("gender_f1").GetDouble() > 0.9, r.LastStdoutLine);
        // Always answering the commonest age band scores about 0.25 age F1.
        Assert.True(root.GetProperty("age_f1").GetDouble() > 0.5, r.LastStdoutLine);
        Assert.True(root.GetProperty("macro_f1").GetDouble() > 0.4, r.LastStdoutLine);
        Assert.Equal(3000, root.GetProperty("train_people").GetInt32());
        Assert.Equal("drawn", root.GetProperty("fit_on").GetString());

        var own = CliHarness.Run("ceiling", "--data", TinySynthetic.Root, "--fit-people", "0", "--json");
        Assert.True(own.ExitCode == 0, own.Stderr);
        using var ownJson = JsonDocument.Parse(own.LastStdoutLine);
        Assert.Equal(TinySynthetic.Options.People, ownJson.RootElement.GetProperty("train_people").GetInt32());
    }

    [Fact]
    public void A_folder_that_is_not_a_synthetic_set_is_refused_in_one_line()
    {
        var dir = Directory.CreateTempSubdirectory("masklab-noset-").FullName;
        var r = CliHarness.Run("ceiling", "--data", dir);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("holds no synthetic set", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }
}
