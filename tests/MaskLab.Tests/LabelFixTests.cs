using System.Text.Json.Nodes;
using MaskLab.Data.Layout;

namespace MaskLab.Tests;

/// <summary>label_fixes: the built-in public list, fix files, a synthetic set's truth, and what a run records.</summary>
public sealed class LabelFixTests : IDisposable
{
    readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    static Sample Photo(LabeledSet set, string person, string stem) =>
        set.Samples.Single(s => s.Person!.Id == person && Path.GetFileNameWithoutExtension(s.Path) == stem);

    [Fact]
    public void BuiltinList_HoldsThePublicCorrections()
    {
        var fixes = LabelFixes.Load(LabelFixes.Builtin);
        Assert.Equal(40, fixes.Count);
        string? Value(string person, string field) => fixes.SingleOrDefault(f => f.Person == person && f.Field == field)?.Value;
        foreach (var id in new[] { "006359", "006360", "006361", "006362", "006363", "006364", "001720" }) Assert.Equal("male", Value(id, "gender"));
        foreach (var id in new[] { "001498-1", "004432", "005223" }) Assert.Equal("female", Value(id, "gender"));
        foreach (var id in new[] { "000225", "000664", "000767", "001509", "003113", "003223", "004281", "006424", "000667", "000725",
                     "000736", "000817", "003780", "006504", "001200" })
            Assert.Equal("flip", Value(id, "gender"));
        foreach (var id in new[] { "000020", "004418", "005227" })
        {
            Assert.Equal("not_wear", Value(id, "incorrect_mask"));
            Assert.Equal("incorrect", Value(id, "normal"));
        }
        Assert.Equal("wear", Value("000645", "incorrect_mask"));
        Assert.Equal("wear", Value("003574", "incorrect_mask"));
        Assert.Equal("60", Value("004348", "age"));
        foreach (var id in new[] { "001009", "001064", "001637", "001666", "001852" }) Assert.Equal("29", Value(id, "age"));
        Assert.Equal("", Value("003399", "drop"));
    }

    [Fact]
    public void BuiltinList_CorrectsTheCompetitionLayoutsPeople()
    {
        var train = Fixtures.WriteTrain(_dir.Combine("train"), [
            "000020_female_Asian_45", "006359_female_Asian_25", "001498-1_male_Asian_50", "004432_female_Asian_33",
            "000225_male_Asian_20", "000645_male_Asian_41", "004348_female_Asian_59", "001009_male_Asian_31",
            "003399_male_Asian_30", "000001_female_Asian_22"]);
        var set = CompetitionLayout.ReadTrain(train);
        var result = LabelFixes.Apply(set, LabelFixes.Load(LabelFixes.Builtin));
        var after = result.Set;

        // 000020: the incorrect_mask photo shows no mask and the normal photo an incorrect one; masks unchanged.
        Assert.Equal(TaskClasses.Encode(MaskState.NotWear, Gender.Female, AgeBand.From30To59), Photo(after, "000020", "incorrect_mask").Label);
        Assert.Equal(TaskClasses.Encode(MaskState.Incorrect, Gender.Female, AgeBand.From30To59), Photo(after, "000020", "normal").Label);
        Assert.Equal(Photo(set, "000020", "mask1").Label, Photo(after, "000020", "mask1").Label);
        // Gender: set to male, set to female, flipped; the person record changes too (the split stratifies on it).
        Assert.All(after.Samples.Where(s => s.Person!.Id == "006359"), s => Assert.Equal(Gender.Male, TaskClasses.GenderOf(s.Label)));
        Assert.Equal(Gender.Male, Photo(after, "006359", "mask1").Person!.Gender);
        Assert.All(after.Samples.Where(s => s.Person!.Id == "001498-1"), s => Assert.Equal(Gender.Female, TaskClasses.GenderOf(s.Label)));
        Assert.All(after.Samples.Where(s => s.Person!.Id == "000225"), s => Assert.Equal(Gender.Female, TaskClasses.GenderOf(s.Label)));
        // 000645's incorrect_mask photo is a correct mask.
        Assert.Equal(MaskState.Wear, TaskClasses.MaskOf(Photo(after, "000645", "incorrect_mask").Label));
        // Ages: 59 -> 60 moves to the 60+ band, 31 -> 29 below 30.
        Assert.Equal(AgeBand.Over60, TaskClasses.Decode(Photo(after, "004348", "normal").Label).Age);
        Assert.Equal(60, Photo(after, "004348", "normal").Person!.Age);
        Assert.Equal(AgeBand.Under30, TaskClasses.Decode(Photo(after, "001009", "mask2").Label).Age);
        // 003399 is dropped, 000001 is untouched.
        Assert.DoesNotContain(after.Samples, s => s.Person!.Id == "003399");
        Assert.Equal(set.Samples.Where(s => s.Person!.Id == "000001"), after.Samples.Where(s => s.Person!.Id == "000001"));
        Assert.Equal(set.Samples.Count - 7, after.Samples.Count);

        // 004432 is already female: skipped, as are the people this copy lacks; every applied fix counts its photos.
        Assert.Contains(result.Skipped, s => s.Fix.Person == "004432" && s.Why == "already female");
        Assert.Contains(result.Skipped, s => s.Fix.Person == "005223" && s.Why == "person not in the data");
        // Applied: 000020 twice (1 photo each), 006359, 001498-1, 000225 (7 each), 000645 (1), 004348, 001009, 003399 (7 each).
        Assert.Equal(9, result.Applied.Count);
        Assert.Equal(40, result.Applied.Count + result.Skipped.Count);
        Assert.Equal(1 + 1 + 7 + 7 + 7 + 1 + 7 + 7 + 7, result.Applied.Sum(a => a.Photos));
    }

    [Theory]
    [InlineData("person,field,value\n000001,eyes,blue\n", "line 2: field 'eyes' is not gender, age, drop or a photo name")]
    [InlineData("person,field,value\n000001,gender,other\n", "line 2: value 'other' does not fit field gender (male, female or flip)")]
    [InlineData("person,field,value\n000001,age,abc\n", "line 2: value 'abc' does not fit field age")]
    [InlineData("person,field,value\n000001,normal,blue\n", "line 2: value 'blue' does not fit field normal (wear, incorrect, not_wear or drop)")]
    [InlineData("person,field,value\n000001,age,30\n000001,age,31\n", "line 3: person 000001 field age repeats line 2")]
    [InlineData("person,field\n000001,age\n", "lacks column value")]
    public void BadFixFiles_FailInOneLineNamingFileAndLine(string text, string expected)
    {
        var file = _dir.Combine("fixes.csv");
        File.WriteAllText(file, text);
        var e = Assert.Throws<MaskLabInputException>(() => LabelFixes.Load(file));
        Assert.Contains(expected, e.Message);
        Assert.Contains(file, e.Message);
    }

    [Fact]
    public void PhotoDropAndMissingPhoto_AreHandled()
    {
        var train = Fixtures.WriteTrain(_dir.Combine("train"), ["000007_male_Asian_40"]);
        var file = _dir.Combine("fixes.csv");
        File.WriteAllText(file, "person,field,value,note\n000007,mask3,drop,blurred\n000007,normal,wear,\n000007,age,40,\n");
        var result = LabelFixes.Apply(CompetitionLayout.ReadTrain(train), LabelFixes.Load(file));
        Assert.Equal(6, result.Set.Samples.Count);
        Assert.DoesNotContain(result.Set.Samples, s => Path.GetFileNameWithoutExtension(s.Path) == "mask3");
        Assert.Equal(MaskState.Wear, TaskClasses.MaskOf(Photo(result.Set, "000007", "normal").Label));
        Assert.Equal(("already 40", "000007"), (result.Skipped.Single().Why, result.Skipped.Single().Fix.Person));
        Assert.Throws<MaskLabInputException>(() => LabelFixes.Apply(ImageFolderLayout.Read(Fixtures.WriteImageFolder(_dir.Combine("folder"), ["a", "b"])), LabelFixes.Load(file)));
    }

    [Fact]
    public void SyntheticTruth_UndoesEveryPlantedError()
    {
        var root = TinySynthetic.Root;
        var truthFile = Path.Combine(root, SyntheticGenerator.TruthFile);
        var truth = File.ReadAllLines(truthFile).Skip(1).Select(l => l.Split(','))
            .ToDictionary(p => Path.GetFullPath(Path.Combine(root, p[0])), p => (Given: int.Parse(p[1]), True: int.Parse(p[2])));
        var set = DataLocator.ReadLabeled(root);
        Assert.Contains(set.Samples, s => truth[s.Path].Given != truth[s.Path].True); // the set has planted errors to undo

        var result = LabelFixes.Apply(set, LabelFixes.Load(truthFile));
        Assert.Empty(result.Skipped);
        Assert.All(result.Set.Samples, s => Assert.Equal(truth[s.Path].True, s.Label));
        Assert.Equal(truth.Count(t => t.Value.Given != t.Value.True), result.Set.Samples.Count(s => truth[s.Path].Given != s.Label));
    }

    [Fact]
    public void RunWithFixes_LogsEveryFix_AndRecordsThemInTheRun()
    {
        var root = TinySynthetic.Root;
        var truthFile = Path.Combine(root, SyntheticGenerator.TruthFile);
        var config = RunConfig.Load(null, [$"data={root}", "model=baseline", "image_size=24x32", "epochs=1", "batch_size=32",
            "warmup_epochs=0", "threads=2", $"label_fixes={truthFile}"]).Validate();
        var observer = new RecordingObserver();
        var data = TrainingData.Load(config.DataSection, observer, CancellationToken.None);
        var applied = data.Fixes!.Applied;
        Assert.NotEmpty(applied);
        Assert.Equal(applied.Count, observer.Stages.Count(s => s.StartsWith("label fix: person ")));
        Assert.Contains(observer.Stages, s => s.StartsWith($"label fixes from {truthFile}: {applied.Count} applied, 0 skipped"));

        var run = new RunDirectory(_dir.Combine("run"));
        new RunJob(config, run).Run(CancellationToken.None, data, new RunEnd(Predict: false, Report: false));
        var lines = File.ReadAllLines(run.LabelFixesFile);
        Assert.Equal("person,field,value,status,old,new,photos,source", lines[0]);
        Assert.Equal(applied.Count, lines.Skip(1).Count(l => l.Contains(",applied,")));
        var summary = JsonNode.Parse(File.ReadAllText(run.SummaryFile))!;
        Assert.Equal(applied.Count, summary["label_fixes_applied"]!.GetValue<int>());
        Assert.Equal(applied.Sum(a => a.Photos), summary["label_fixes_photos"]!.GetValue<int>());
        var meta = JsonNode.Parse(File.ReadAllText(run.MetadataFile))!["label_fixes"]!;
        Assert.Equal(truthFile, meta["source"]!.GetValue<string>());
        Assert.Equal(64, meta["sha256"]!.GetValue<string>().Length);

        // A run without fixes writes no file and no keys.
        var plain = new RunDirectory(_dir.Combine("plain"));
        var plainConfig = RunConfig.Load(null, [$"data={root}", "model=baseline", "image_size=24x32", "epochs=1", "warmup_epochs=0", "threads=2"]).Validate();
        new RunJob(plainConfig, plain).Run(CancellationToken.None, end: new RunEnd(Predict: false, Report: false));
        Assert.False(File.Exists(plain.LabelFixesFile));
        Assert.Null(JsonNode.Parse(File.ReadAllText(plain.SummaryFile))!["label_fixes_applied"]);
    }

    [Fact]
    public void LabelFixesSetting_ReachesTheDataSection_AndAMissingFileFailsTheLoad()
    {
        Assert.Null(RunConfig.Load(null, ["label_fixes=none"]).Validate().DataSection.LabelFixes);
        Assert.Equal("builtin", RunConfig.Load(null, ["label_fixes=builtin"]).Validate().DataSection.LabelFixes);
        // A missing file is reported when the data is read, as a missing data folder is.
        var config = RunConfig.Load(null, [$"data={TinySynthetic.Root}", "label_fixes=/no/such/fixes.csv"]).Validate();
        var e = Assert.Throws<MaskLabInputException>(() => TrainingData.Load(config.DataSection, SilentObserver.Instance, CancellationToken.None));
        Assert.Equal("label_fixes '/no/such/fixes.csv' is not builtin, none or an existing file", e.Message);
    }
}
