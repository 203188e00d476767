using System.Globalization;
using System.Text.Json;
using MaskLab.Data.Layout;

namespace MaskLab.Tests;

/// <summary>masklab audit: likely label errors from out-of-fold probabilities, worked by hand.</summary>
[Collection(CliConsoleCollection.Name)]
public sealed class LabelAuditTests : IDisposable
{
    readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    static readonly string[] Stems = ["mask1", "mask2", "mask3", "mask4", "mask5", "incorrect_mask", "normal"];

    /// <summary>
    /// Three people, 7 photos each, labelled as their folders say. Each photo's probabilities put <c>p</c> on one class
    /// and spread the rest evenly, so every attribute's mass is known by hand.
    /// </summary>
    static OofFile.Oof Oof(params (string Folder, Func<int, (int Label, int Predicted, float P)> Photo)[] people)
    {
        var paths = new List<string>(); var persons = new List<string>(); var truth = new List<int>();
        var rows = new List<float[]>();
        foreach (var (folder, photo) in people)
            for (int k = 0; k < 7; k++)
            {
                var (label, predicted, p) = photo(k);
                paths.Add($"/data/train/images/{folder}/{Stems[k]}.jpg");
                persons.Add(folder.Split('_')[0]);
                truth.Add(label);
                var row = Enumerable.Repeat((1 - p) / 17, 18).ToArray();
                row[predicted] = p;
                rows.Add(row);
            }
        var probs = new float[rows.Count, 18];
        for (int i = 0; i < rows.Count; i++) for (int c = 0; c < 18; c++) probs[i, c] = rows[i][c];
        return new OofFile.Oof(paths.ToArray(), persons.ToArray(), truth.ToArray(), new int[rows.Count], probs);
    }

    static int Cls(MaskState m, Gender g, AgeBand a) => TaskClasses.Encode(m, g, a);

    static MaskState MaskOf(int k) => k < 5 ? MaskState.Wear : k == 5 ? MaskState.Incorrect : MaskState.NotWear;

    /// <summary>
    /// 000001: labelled male 45, predicted female 45 at 0.9 on every photo. 000002: female 25, right, except its
    /// incorrect_mask and normal photos predicted the other way round at 0.95. 000003: male 58, predicted 60+ at 0.6.
    /// </summary>
    static OofFile.Oof Example() => Oof(
        ("000001_male_Asian_45", k => (Cls(MaskOf(k), Gender.Male, AgeBand.From30To59), Cls(MaskOf(k), Gender.Female, AgeBand.From30To59), 0.9f)),
        ("000002_female_Asian_25", k => (Cls(MaskOf(k), Gender.Female, AgeBand.Under30),
            Cls(k == 5 ? MaskState.NotWear : k == 6 ? MaskState.Incorrect : MaskOf(k), Gender.Female, AgeBand.Under30), 0.95f)),
        ("000003_male_Asian_58", k => (Cls(MaskOf(k), Gender.Male, AgeBand.From30To59), Cls(MaskOf(k), Gender.Male, AgeBand.Over60), 0.6f)));

    [Fact]
    public void AnAgeSuspect_CarriesThePersonsMeanPredictedAge_WhereOofHasIt_AndOofCsvKeepsIt()
    {
        var oof = Example();
        Assert.Null(Assert.Single(LabelAudit.Find(oof, 0.5).Suspects, s => s.Attribute == "age").PredictedAge);

        // 000003 is rows 14..20: predicted 59..65, mean 62.
        var ages = Enumerable.Range(0, 21).Select(i => i >= 14 ? 59f + (i - 14) : 30f).ToArray();
        var age = Assert.Single(LabelAudit.Find(oof with { PredictedAges = ages }, 0.5).Suspects, s => s.Attribute == "age");
        Assert.Equal(62.0, age.PredictedAge!.Value, 5);
        Assert.All(LabelAudit.Find(oof with { PredictedAges = ages }, 0.5).Suspects.Where(s => s.Attribute != "age"), s => Assert.Null(s.PredictedAge));

        // Written and read back: the column follows the probabilities; a file without it reads as no ages.
        var set = new LabeledSet(oof.Paths.Select((p, i) => new Sample(p, oof.Truth[i], oof.Persons[i])).ToList(), TaskClasses.Names, true, "/data");
        var file = _dir.Combine("oof.csv");
        OofFile.Write(file, set, oof.Fold, oof.Probabilities, ages);
        Assert.EndsWith(",predicted_age", File.ReadLines(file).First());
        Assert.Equal(ages, OofFile.Read(file).PredictedAges);
        OofFile.Write(file, set, oof.Fold, oof.Probabilities);
        Assert.Null(OofFile.Read(file).PredictedAges);
    }

    [Fact]
    public void Finds_APersonsGender_SwappedPhotos_AndAnAge_ScoredByHand()
    {
        var result = LabelAudit.Find(Example(), 0.5);

        // 000001's gender: the 9 male classes hold 9 of the 17 spread shares, 9 x 0.1 / 17 = 0.0529; off the label 0.9471.
        var gender = Assert.Single(result.Suspects, s => s.Attribute == "gender");
        Assert.Equal(("000001", "male", "female", 7), (gender.Person, gender.Labelled, gender.Suggested, gender.Photos.Count));
        Assert.Equal(1 - 9 * 0.1 / 17, gender.Score, 5);
        Assert.Equal(new LabelFix("000001", "gender", "female", "audit"), gender.Fix);

        // 000002's two swapped photos: the labelled mask state holds 6 spread shares, 6 x 0.05 / 17; off it 0.9824.
        var masks = result.Suspects.Where(s => s.Attribute == "mask").OrderBy(s => s.Photos[0]).ToArray();
        Assert.Equal(2, masks.Length);
        Assert.Equal(("incorrect", "not_wear"), (masks[0].Labelled, masks[0].Suggested));
        Assert.Equal(("not_wear", "incorrect"), (masks[1].Labelled, masks[1].Suggested));
        Assert.Equal(1 - 6 * 0.05 / 17, masks[0].Score, 5);
        Assert.Equal(new LabelFix("000002", "incorrect_mask", "not_wear", "audit"), masks[0].Fix);

        // 000003's age: 30-59 holds 6 spread shares, 6 x 0.4 / 17 = 0.1412, so 0.8588 is off it; the nearest 60+ age to 58 is 60.
        var age = Assert.Single(result.Suspects, s => s.Attribute == "age");
        Assert.Equal(("000003", "58 (30-59)", "60+"), (age.Person, age.Labelled, age.Suggested));
        Assert.Equal(1 - 6 * 0.4 / 17, age.Score, 5);
        Assert.Equal("60", age.Fix!.Value);

        Assert.Equal(4, result.Suspects.Count);
        Assert.Equal(result.Suspects.OrderByDescending(s => s.Score), result.Suspects);
        // Grouped by person: 000004's mask photo (0.982) and gender (0.769) stay together, though 000005's gender (0.894)
        // lies between them by score.
        var grouped = LabelAudit.Find(Oof(
            ("000004_male_Asian_45", k => (Cls(MaskOf(k), Gender.Male, AgeBand.From30To59),
                Cls(k == 0 ? MaskState.NotWear : MaskOf(k), Gender.Female, AgeBand.From30To59), k == 0 ? 0.95f : 0.5f)),
            ("000005_male_Asian_45", k => (Cls(MaskOf(k), Gender.Male, AgeBand.From30To59), Cls(MaskOf(k), Gender.Female, AgeBand.From30To59), 0.8f))), 0.5);
        Assert.Equal([("000004", "mask"), ("000004", "gender"), ("000005", "gender")], grouped.Suspects.Select(s => (s.Person, s.Attribute)));
        Assert.Equal(7 + 2 + 7, result.FlaggedPhotos);

        // At 0.9 the age suspect goes; at 0.96 only the mask photos stay.
        Assert.DoesNotContain(LabelAudit.Find(Example(), 0.9).Suspects, s => s.Attribute == "age");
        Assert.Contains(LabelAudit.Find(Example(), 0.85).Suspects, s => s.Attribute == "age");
        Assert.All(LabelAudit.Find(Example(), 0.96).Suspects, s => Assert.Equal("mask", s.Attribute));
    }

    [Fact]
    public void NearestAge_IsClampedIntoTheBand()
    {
        Assert.Equal(29, LabelAudit.NearestAgeIn(AgeBand.Under30, 31));
        Assert.Equal(30, LabelAudit.NearestAgeIn(AgeBand.From30To59, 25));
        Assert.Equal(59, LabelAudit.NearestAgeIn(AgeBand.From30To59, 60));
        Assert.Equal(60, LabelAudit.NearestAgeIn(AgeBand.Over60, 58));
    }

    /// <summary>A truth file: 000001's gender and 000002's two swapped photos wrong, plus 000002's mask1 (really incorrect), which the audit misses.</summary>
    string Truth()
    {
        var lines = new List<string> { "path,given_class,true_class,true_age,noise" };
        var oof = Example();
        for (int i = 0; i < oof.Paths.Length; i++)
        {
            var rel = "train/images/" + string.Join('/', oof.Paths[i].Split('/')[^2..]);
            int given = oof.Truth[i], truth = given;
            string kind = "";
            if (i < 7) { truth = given + 3; kind = "wrong_gender"; } // male -> female
            if (i is 12 or 13) { truth = Cls(i == 12 ? MaskState.NotWear : MaskState.Incorrect, Gender.Female, AgeBand.Under30); kind = "swapped_incorrect_normal"; }
            if (i == 7) { truth = given + 6; kind = "swapped_incorrect_normal"; }
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{rel},{given},{truth},40,{kind}"));
        }
        var file = _dir.Combine("train_truth.csv");
        File.WriteAllLines(file, lines);
        return file;
    }

    [Fact]
    public void Score_CountsPhotos_AgainstThePlantedList()
    {
        var oof = Example();
        var score = LabelAudit.Score(LabelAudit.Find(oof, 0.5), oof, Truth());
        // Wrong: 7 + 2 + 1 = 10. Flagged: 16 (000001's 7, two photos, 000003's 7). Found: 9.
        Assert.Equal((10, 16, 9), (score.Planted, score.Flagged, score.Found));
        Assert.Equal(9 / 16.0, score.Precision, 9);
        Assert.Equal(0.9, score.Recall, 9);
        Assert.Equal(9, score.SuggestionRight);
        Assert.Equal((7, 7), score.ByKind["wrong_gender"]);
        Assert.Equal((3, 2), score.ByKind["swapped_incorrect_normal"]);
    }

    [Fact]
    public void Cli_ListsSuspects_ScoresThem_AndWritesFixesThatLoadBack()
    {
        var run = Directory.CreateDirectory(_dir.Combine("kfold")).FullName;
        var oof = Example();
        var header = "path,person,truth,fold," + string.Join(",", Enumerable.Range(0, 18).Select(c => $"p{c}"));
        File.WriteAllLines(Path.Combine(run, "oof.csv"), [header, .. Enumerable.Range(0, oof.Paths.Length).Select(i =>
            string.Join(",", [oof.Paths[i], oof.Persons[i], oof.Truth[i].ToString(CultureInfo.InvariantCulture), "0",
                .. Enumerable.Range(0, 18).Select(c => oof.Probabilities[i, c].ToString("R", CultureInfo.InvariantCulture))]))]);
        var fixes = _dir.Combine("suspects.csv");

        var r = CliHarness.Run("audit", "--run", run, "--threshold", "0.5", "--truth", Truth(), "--fixes", fixes, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("4 suspect label(s) covering 16 of 21 photos (3 people)", r.Stdout);
        Assert.Contains("recall 0.900 (9 of 10 wrong photos flagged)", r.Stdout);
        using var json = JsonDocument.Parse(r.LastStdoutLine);
        Assert.Equal(4, json.RootElement.GetProperty("suspects").GetArrayLength());
        Assert.Equal(0.9, json.RootElement.GetProperty("truth").GetProperty("recall").GetDouble(), 9);

        var back = LabelFixes.Load(fixes);
        Assert.Equal(4, back.Count);
        Assert.Contains(back, f => f.Person == "000003" && f.Field == "age" && f.Value == "60");

        var missing = CliHarness.Run("audit", "--run", _dir.Path);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("has no oof.csv", missing.Stderr);
    }

    [Fact]
    public void Confident_learning_flags_what_the_confident_joint_prunes_worked_out_by_hand()
    {
        // Three classes, ten photos; a3 is labelled 0 but looks like 1.
        string[] names = ["a0", "a1", "a2", "a3", "b0", "b1", "b2", "b3", "c0", "c1"];
        int[] truth = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2];
        float[,] p =
        {
            { .9f, .05f, .05f }, { .8f, .1f, .1f }, { .7f, .2f, .1f }, { .1f, .85f, .05f },
            { .1f, .8f, .1f }, { .05f, .9f, .05f }, { .2f, .7f, .1f }, { .1f, .75f, .15f },
            { .1f, .1f, .8f }, { .2f, .1f, .7f },
        };
        var oof = new OofFile.Oof(names.Select(n => $"/d/{n}.png").ToArray(), names, truth, new int[10], p);
        // Thresholds: the mean self-confidence of each labelled class.
        var t = ConfidentLearning.Thresholds(p, truth, 3);
        Assert.Equal(0.625, t[0], 6);
        Assert.Equal(0.7875, t[1], 6);
        Assert.Equal(0.75, t[2], 6);
        // The confident joint holds a3 at (0, 1) and nothing else off the diagonal; row 0 sums to the 4 photos labelled
        // 0, so one photo of that row is pruned: the one with the largest margin p1 - p0, a3 (0.85 - 0.10).
        var result = ConfidentLearning.Find(oof);
        var only = Assert.Single(result.Suspects);
        Assert.Equal(["/d/a3.png"], only.Photos);
        Assert.Equal("0", only.Labelled);
        Assert.Equal("1", only.Suggested);
        Assert.Equal(0.75, only.Score, 6);
        Assert.Equal(10, result.Photos);
        Assert.True(double.IsNaN(result.Threshold));
    }

    [Fact]
    public void Audit_runs_either_method_on_the_same_oof_file()
    {
        var oof = Example();
        var r = CliHarness.Run("audit", "--run", Directory.CreateTempSubdirectory("masklab-audit-none-").FullName, "--method", "nope");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--method", r.Stderr);
        Assert.NotEmpty(ConfidentLearning.Find(oof).Suspects.Concat(LabelAudit.Find(oof, 0.5).Suspects));
    }
}
