using MaskLab.Data.Layout;

namespace MaskLab.Tests;

/// <summary>masklab clean: the k-fold audit, its fixes and the final run, each stage kept and resumed.</summary>
[Collection(CliConsoleCollection.Name)]
public sealed class LabelCleaningTests : IDisposable
{
    readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    static readonly RunEnd NoEnd = new(Predict: false, Report: false);

    static RunConfig Tiny(params string[] overrides) => RunConfig.Load(null,
        new[] { $"data={TinySynthetic.Root}", "model=baseline", "image_size=24x32", "epochs=1", "batch_size=32", "lr=0.003",
                "warmup_epochs=0", "seed=3", "threads=2", "face_crop=none" }.Concat(overrides)).Validate();

    static AuditResult Audit(params AuditSuspect[] suspects) => new(suspects, 14, 2, 0.7);

    static AuditSuspect Gender(string person, string to, double score) =>
        new(person, "gender", to == "male" ? "female" : "male", to, score, [], new LabelFix(person, LabelFix.GenderField, to, "audit"));

    [Fact]
    public void Merge_KeepsTheConfigsFixesFirst_AndAddsOnlyFieldsTheyDoNotName()
    {
        LabelFix[] own = [new("000001", "gender", "male", "mine.csv line 2"), new("000002", "age", "31", "mine.csv line 3")];
        var audit = Audit(Gender("000001", "female", 0.9), Gender("000002", "female", 0.8),
            new AuditSuspect("000003", "mask", "wear", "incorrect", 0.75, [], new LabelFix("000003", "mask2", "incorrect", "audit")),
            new AuditSuspect("000004", "class", "3", "4", 0.99, [], null));

        var (rows, fromConfig) = LabelCleaning.Merge(own, audit);

        Assert.Equal(2, fromConfig);
        Assert.Equal(["000001/gender=male", "000002/age=31", "000002/gender=female", "000003/mask2=incorrect"],
            rows.Select(r => $"{r.Fix.Person}/{r.Fix.Field}={r.Fix.Value}"));
        Assert.Contains("mine.csv line 2", rows[0].Note);
        Assert.Equal("audit score 0.800: gender male -> female", rows[2].Note);
    }

    [Fact]
    public void Clean_AuditsWithAKFoldRun_WritesItsFixes_StopsForReview_ThenTrainsTheFinalRunWithTheReviewedFile()
    {
        var outDir = _dir.Combine("clean");
        var stages = new List<string>();
        var observer = new StageLog(stages);
        var cleaning = new LabelCleaning(Tiny(), outDir, new CleaningOptions(Folds: 2, Threshold: 0.3, ReviewFirst: true), observer);

        var first = cleaning.Run(end: NoEnd);

        Assert.Null(first.Final);
        Assert.True(File.Exists(Path.Combine(outDir, "kfold", "oof.csv")), "the audit's k-fold run has no oof.csv");
        Assert.False(Directory.Exists(cleaning.Final.Path), "the final run trained before the review");
        var written = LabelFixes.Load(cleaning.FixesFile);
        Assert.Equal(first.Fixes, written.Count);
        var oof = OofFile.Read(cleaning.KFold.OofFile);
        Assert.Equal(LabelAudit.Find(oof, 0.3).Suspects.Count(s => s.Fix is not null), written.Count);
        Assert.True(written.Count > 0, "a 1-epoch model at 0.3 flags no one: nothing for the final run to apply");

        // The reviewer keeps one fix; the next call trains with the file as it now is, and retrains no fold.
        var kept = written[0];
        LabelFixes.Write(cleaning.FixesFile, [(kept, "review accepted")]);
        var foldCheckpoint = File.GetLastWriteTimeUtc(cleaning.KFold.Fold(0).LastCheckpoint);
        stages.Clear();
        var second = new LabelCleaning(Tiny(), outDir, new CleaningOptions(Folds: 2, Threshold: 0.3), observer).Run(end: NoEnd);

        Assert.NotNull(second.Final);
        Assert.Equal(1, second.Fixes);
        Assert.Equal(foldCheckpoint, File.GetLastWriteTimeUtc(cleaning.KFold.Fold(0).LastCheckpoint));
        Assert.DoesNotContain(stages, s => s.Contains("fold 1 of 2", StringComparison.Ordinal));
        Assert.Equal(cleaning.FixesFile, cleaning.Final.ReadConfig().LabelFixes);
        var applied = File.ReadAllText(cleaning.Final.LabelFixesFile);
        Assert.Contains(kept.Person, applied);
        Assert.Equal(RunState.Finished, RunStates.Of(cleaning.Final, 1));
    }

    [Fact]
    public void Clean_RefusesAConfigWithFolds_AndTheCliSaysWhatIsMissing()
    {
        var e = Assert.Throws<MaskLabInputException>(() => new LabelCleaning(Tiny("folds=3"), _dir.Combine("c"), new CleaningOptions()).Run(end: NoEnd));
        Assert.Contains("leave folds out", e.Message);
        // The cleaning folder's label_fixes.csv is never written into a run or the data set.
        var run = _dir.Combine("run");
        DashboardFakes.Run(run, [0.4]);
        Assert.Contains("the run folder", Assert.Throws<MaskLabInputException>(() => new LabelCleaning(Tiny(), run, new CleaningOptions()).Run(end: NoEnd)).Message);
        var data = TinySynthetic.CopyTo(_dir.Combine("data"));
        Assert.Contains("inside the data set", Assert.Throws<MaskLabInputException>(() =>
            new LabelCleaning(Tiny($"data={data}"), Path.Combine(data, "train"), new CleaningOptions()).Run(end: NoEnd)).Message);
        Assert.False(File.Exists(Path.Combine(data, "train", "label_fixes.csv")));
        CliAssert.OneLineError(CliHarness.Run("clean"), "--out");
        CliAssert.OneLineError(CliHarness.Run("clean", "--out", _dir.Combine("c2"), "--folds", "1"), "--folds 1");
        CliAssert.OneLineError(CliHarness.Run("clean", "--out", _dir.Combine("c3"), "--threshold", "0"), "--threshold 0");
    }

    sealed class StageLog(List<string> stages) : ITrainingObserver
    {
        public void Stage(string message) => stages.Add(message);
    }
}
