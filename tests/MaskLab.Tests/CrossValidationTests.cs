using MaskLab.Data.Layout;

namespace MaskLab.Tests;

public class CrossValidationTests
{
    /// <summary>Training and the out-of-fold gather only: the eval prediction and the report are tested elsewhere.</summary>
    static readonly RunEnd NoEnd = new(Predict: false, Report: false);

    static RunConfig Tiny(string data, params string[] overrides) => RunConfig.Load(null,
        new[] { $"data={data}", "model=baseline", "image_size=24x32", "epochs=1", "batch_size=32", "lr=0.003",
                "warmup_epochs=0", "seed=3", "threads=2", "folds=3" }.Concat(overrides)).Validate();

    [Fact]
    public void KFoldWritesEveryPhotoOnceInOofWithItsHeldOutFoldAndScoresIt()
    {
        var root = Directory.CreateTempSubdirectory("masklab-cv-").FullName;
        // Training labels move the upper age cut; the OOF truth and its score must still use 30 / 60.
        var summary = new CrossValidation(Tiny(TinySynthetic.Root, "age_cuts=30,58"), new RunDirectory(root)).Run(end: NoEnd)?.Summary;

        Assert.NotNull(summary);
        var set = DataLocator.ReadLabeled(TinySynthetic.Root);
        var oof = OofFile.Read(Path.Combine(root, "oof.csv"));
        Assert.Equal(set.Samples.Count, oof.Paths.Length);
        Assert.Equal(set.Samples.Select(s => s.Path).Order(StringComparer.Ordinal), oof.Paths.Order(StringComparer.Ordinal));
        Assert.Equal(oof.Paths.Length, oof.Paths.Distinct().Count());
        var byPath = set.Samples.ToDictionary(s => s.Path);
        for (int i = 0; i < oof.Paths.Length; i++)
            Assert.Equal(TaskClasses.Encode(byPath[oof.Paths[i]].Mask!.Value, byPath[oof.Paths[i]].Person!.Gender,
                AgeCuts.Scoring.Band(byPath[oof.Paths[i]].Person!.Age)), oof.Truth[i]);

        // Each person sits in one fold only, and that fold's model never trained on it.
        foreach (var person in oof.Persons.Distinct())
            Assert.Single(oof.Fold.Where((_, i) => oof.Persons[i] == person).Distinct());
        for (int k = 0; k < 3; k++)
        {
            Assert.True(File.Exists(Path.Combine(root, $"fold-{k}", "metadata.json")), $"fold-{k} lacks metadata.json");
            var split = File.ReadAllText(Path.Combine(root, $"fold-{k}", "split.json"));
            foreach (var person in oof.Persons.Where((_, i) => oof.Fold[i] == k).Distinct())
                Assert.Contains($"\"{person}\"", split);
        }
        // The ordinal age output (age_head auto on the task's people) gives each photo a predicted age in years.
        Assert.NotNull(oof.PredictedAges);
        Assert.All(oof.PredictedAges!, a => Assert.InRange(a, 18f, 60f));
        Assert.True(oof.PredictedAges!.Distinct().Count() > 1, "every photo predicted the same age");
        for (int i = 0; i < oof.Paths.Length; i++)
        {
            double sum = 0;
            for (int c = 0; c < 18; c++) sum += oof.Probabilities[i, c];
            Assert.InRange(sum, 0.999, 1.001);
        }

        var truth = oof.Truth;
        var expected = Metrics.Evaluate(truth, Metrics.Argmax(oof.Probabilities), TaskClasses.Names, true);
        Assert.Equal(expected.MacroF1, summary!.Oof!.MacroF1, 6);
        Assert.Equal(expected.AgeF1, summary.Oof.AgeF1);
        Assert.Equal(3, summary.Oof.FoldValMacroF1.Count);
        Assert.Equal(summary.Oof.FoldValMacroF1.Average(), summary.Training.BestValMacroF1, 9);
        Assert.Contains("oof_macro_f1", File.ReadAllText(Path.Combine(root, "summary.json")));
    }

    [Fact]
    public void SingleFoldsGatherIntoTheSameRunAndOofWaitsForTheLast()
    {
        var root = Directory.CreateTempSubdirectory("masklab-cv-").FullName;
        Assert.Null(new CrossValidation(Tiny(TinySynthetic.Root, "folds=2", "fold=1"), new RunDirectory(root)).Run(end: NoEnd));
        Assert.False(File.Exists(Path.Combine(root, "oof.csv")));
        Assert.True(File.Exists(Path.Combine(root, "fold-1", "summary.json")));
        Assert.False(Directory.Exists(Path.Combine(root, "fold-0", "checkpoints")));
        var fold1Written = File.GetLastWriteTimeUtc(Path.Combine(root, "fold-1", "checkpoints", "best.ckpt"));

        var summary = new CrossValidation(Tiny(TinySynthetic.Root, "folds=2", "fold=0"), new RunDirectory(root)).Run(end: NoEnd);
        Assert.NotNull(summary);
        Assert.True(File.Exists(Path.Combine(root, "oof.csv")));
        // fold 1 was not trained again
        Assert.Equal(fold1Written, File.GetLastWriteTimeUtc(Path.Combine(root, "fold-1", "checkpoints", "best.ckpt")));
        Assert.Equal([Path.Combine(root, "fold-0"), Path.Combine(root, "fold-1")], RunDirectory.ExpandFolds([root]));
    }

    [Fact]
    public void AnotherFoldCountInTheSameDirectoryIsRefused()
    {
        var root = Directory.CreateTempSubdirectory("masklab-cv-").FullName;
        var run = new RunDirectory(root);
        run.Create();
        RunDirectory.WriteAllTextAtomic(run.ConfigFile, Tiny(TinySynthetic.Root, "folds=2").ToYaml());
        var e = Assert.Throws<MaskLabInputException>(() => new CrossValidation(Tiny(TinySynthetic.Root, "folds=3"), run).Run(end: NoEnd));
        Assert.Contains(root, e.Message);
    }
}
