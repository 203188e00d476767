using MaskLab.Data.Faces;
using MaskLab.Data.Loading;
using MaskLab.Losses;
using MaskLab.Models;
using MaskLab.Training;

namespace MaskLab.Tests;

public class TrainConfigTests
{
    static string WriteYaml(string text)
    {
        var path = Path.Combine(Path.GetTempPath(), $"masklab-cfg-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    static string MainYaml([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "configs", "main.yaml"));

    [Fact]
    public void MainYamlSpellsOutTheDefaultsTheMainJobRunsWith()
    {
        var defaults = new RunConfig().Validate();
        var fromFile = RunConfig.Load(MainYaml(), []).Validate();
        Assert.Equal(defaults.ToMap(), fromFile.ToMap());
        // The main job fine-tunes the embedded ImageNet weights: nothing to download, nothing to set.
        Assert.Equal("resnet18_mlnet", defaults.Model);
        Assert.NotNull(defaults.EmbeddedWeights);
    }

    [Fact]
    public void TheSectionRecordsDefaultsAreTheConfigsDefaults()
    {
        // Where a section record has defaults of its own (for callers without a config), they are the config's: a
        // component built without a config trains as the main job would.
        var defaults = new RunConfig();
        Assert.Equal(new FineTuneSpec(), defaults.FineTune);
        Assert.Equal(new LossSpec(LossChoice.CrossEntropy), defaults.LossSection);
        Assert.Equal(new FaceCropOptions(), defaults.FaceCropSection.Options);
        var loss = new LossOptions(18);
        Assert.Equal((defaults.Smoothing, defaults.FocalGamma), (loss.Smoothing, loss.FocalGamma));
        Assert.Equal(HeadSpec.Single with { AgeHead = defaults.HeadSection.AgeHead }, defaults.HeadSection);
    }

    [Fact]
    public void TheFlatKeysAreAViewOverTheOptionRecords()
    {
        var c = RunConfig.Load(null, ["lr=0.01", "momentum=0.8", "epochs=4", "warmup_epochs=0.5", "cutmix=0.3", "smoothing=0.1", "face_margin=0.15", "freeze_epochs=2"]);
        Assert.Equal(OptimizerSpec.Default with { Lr = 0.01, Momentum = 0.8 }, c.Optimization);
        Assert.Equal(ScheduleSpec.Default with { Epochs = 4, WarmupEpochs = 0.5 }, c.Schedule);
        Assert.Equal(MixOptions.None with { Cutmix = 0.3 }, c.Mixing);
        Assert.Equal(LossSpec.Default with { Smoothing = 0.1 }, c.LossSection);
        Assert.Equal(FaceCropSpec.Default with { Options = new FaceCropOptions(Margin: 0.15) }, c.FaceCropSection);
        Assert.Equal(new FineTuneSpec(FreezeEpochs: 2), c.FineTune);
        // A key set on the config is set on its record, and the record's value is what the key reads back.
        c.Lr = 0.02;
        Assert.Equal(0.02, c.Optimization.Lr);
        Assert.Equal("0.02", c.ToMap()["lr"]);
    }

    [Fact]
    public void EachOptionRecordValidatesItselfNamingTheKey()
    {
        Assert.Equal("lr -1 is not valid", Assert.Throws<MaskLabInputException>(() => (OptimizerSpec.Default with { Lr = -1 }).Validate()).Message);
        Assert.Equal("epochs 0 is not valid: must be positive", Assert.Throws<MaskLabInputException>(() => (ScheduleSpec.Default with { Epochs = 0 }).Validate()).Message);
        Assert.Equal("smoothing 1 is not valid", Assert.Throws<MaskLabInputException>(() => (LossSpec.Default with { Smoothing = 1 }).Validate()).Message);
        Assert.Contains("freeze_epochs 3", Assert.Throws<MaskLabInputException>(() => new FineTuneSpec(FreezeEpochs: 3).Validate(epochs: 2)).Message);
        Assert.Contains("cutmix 2", Assert.Throws<MaskLabInputException>(() => new MixOptions(Cutmix: 2).Validate()).Message);
        // The config checks through them: the same messages.
        Assert.Equal("lr -1 is not valid", Assert.Throws<MaskLabInputException>(() => RunConfig.Load(null, ["lr=-1"]).Validate()).Message);
    }

    [Fact]
    public void YamlThenSetOverrides()
    {
        var file = WriteYaml("model: baseline\nepochs: 3\nlr: 0.01\nage_cuts: 30,58\n");
        var c = RunConfig.Load(file, ["epochs=5", "image_size=48x64", "precision=fp32", "folds=5", "seed=7", "optimizer=sgd"]).Validate();
        Assert.Equal("baseline", c.Model);
        Assert.Equal(5, c.Epochs);
        Assert.Equal(0.01, c.Lr);
        Assert.Equal(48, c.ImageSize.Width);
        Assert.Equal(64, c.ImageSize.Height);
        Assert.Equal(58, c.AgeCuts.Upper);
        Assert.Equal(5, c.Folds);
        Assert.Equal(7, c.Seed);
        Assert.Equal(OptimizerKind.Sgd, c.Optimizer);
    }

    [Fact]
    public void ConfigRoundTripsThroughYaml()
    {
        var c = RunConfig.Load(null, ["model=baseline", "lr=0.0003", "augment=false", "data=/tmp/x"]);
        var again = RunConfig.Load(WriteYaml(c.ToYaml()));
        Assert.Equal(c.ToMap(), again.ToMap());
    }

    [Theory]
    [InlineData("modle=resnet18", "unknown config key 'modle'")]
    [InlineData("epochs=ten", "epochs 'ten'")]
    [InlineData("image_size=big", "image size 'big'")]
    [InlineData("model=resnet9000", "unknown model 'resnet9000'")]
    [InlineData("loss=hinge", "unknown loss 'hinge'")]
    [InlineData("optimizer=lbfgs", "optimizer 'lbfgs'")]
    [InlineData("age_cuts=60,30", "age_cuts '60,30'")]
    [InlineData("val_ratio=1.5", "val_ratio 1.5")]
    [InlineData("folds=1", "folds 1")]
    [InlineData("epochs", "is not key=value")]
    public void BadValuesNameTheKeyAndValue(string set, string expected)
    {
        var e = Assert.ThrowsAny<MaskLabInputException>(() => RunConfig.Load(null, [set]).Validate());
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void MissingConfigFileIsNamed()
    {
        var e = Assert.Throws<MaskLabInputException>(() => RunConfig.Load("/nonexistent/x.yaml"));
        Assert.Contains("/nonexistent/x.yaml", e.Message);
    }

    [Fact]
    public void ShippedConfigsAreValid()
    {
        var dir = Path.Combine(RepoRoot.Path, "configs");
        foreach (var file in Directory.GetFiles(dir, "*.yaml").Where(f => !f.Contains("study")))
            RunConfig.Load(file).Validate();
    }

    [Fact]
    public void ScheduleWarmsUpThenDecays()
    {
        var c = RunConfig.Load(null, ["lr=0.1", "epochs=10", "warmup_epochs=1", "scheduler=cosine"]);
        Assert.True(LrSchedule.At(c.Schedule, c.Lr, 0, 0.0) < 0.01);
        Assert.Equal(0.05, LrSchedule.At(c.Schedule, c.Lr, 0, 0.5), 6);
        Assert.Equal(0.1, LrSchedule.At(c.Schedule, c.Lr, 1, 0.0), 6);
        Assert.Equal(0.05, LrSchedule.At(c.Schedule, c.Lr, 5, 0.5), 6);   // half-way through the cosine part
        Assert.Equal(0.0, LrSchedule.At(c.Schedule, c.Lr, 9, 1.0), 6);

        var step = RunConfig.Load(null, ["lr=0.1", "epochs=10", "scheduler=step", "step_size=2", "step_gamma=0.5", "warmup_epochs=0"]);
        Assert.Equal(0.1, LrSchedule.At(step.Schedule, step.Lr, 1, 0.9), 9);
        Assert.Equal(0.05, LrSchedule.At(step.Schedule, step.Lr, 2, 0.0), 9);
        Assert.Equal(0.025, LrSchedule.At(step.Schedule, step.Lr, 4, 0.0), 9);
    }

    [Fact]
    public void A_recorded_config_without_the_later_keys_reads_back_as_it_was_trained()
    {
        var dir = Directory.CreateTempSubdirectory("masklab-recorded-").FullName;
        try
        {
            var file = Path.Combine(dir, "config.yaml");
            var lines = RunConfig.Load(null).ToYaml().Split('\n')
                .Where(l => !l.StartsWith("age_over_threshold:") && !l.StartsWith("eval_checkpoint:") && !l.StartsWith("face_crop:") && !l.StartsWith("age_head:"));
            File.WriteAllText(file, string.Join('\n', lines));
            var old = RunConfig.LoadRecorded(file);
            Assert.Equal(0.5, old.AgeOverThreshold);
            Assert.Equal(CheckpointChoice.Best, old.EvalCheckpoint);
            Assert.Equal(FaceCropMode.None, old.FaceCrop);
            Assert.Equal(AgeHeadKind.None, old.AgeHead);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void DifferencesFrom_names_each_changed_key_with_both_values()
    {
        var a = RunConfig.Load(null, ["epochs=3", "lr=0.01"]);
        var b = RunConfig.Load(null, ["epochs=4", "lr=0.01"]);
        Assert.Equal([new RunConfig.Difference("epochs", "3", "4")], a.DifferencesFrom(b));
        Assert.Empty(a.DifferencesFrom(b, "lr", "seed"));
        Assert.Empty(a.DifferencesFrom(a.Clone()));
    }
}

static class RepoRoot
{
    public static string Path { get; } = Find();

    static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "MaskLab.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}

/// <summary>epochs: auto, the training length that follows the data (issue 31).</summary>
[Collection(CliConsoleCollection.Name)]
public sealed class AutoEpochsTests
{
    [Theory]
    [InlineData(3_360, 5)]    // the default set: the recipe as chosen
    [InlineData(1_680, 10)]   // half the people: as many updates, not half
    [InlineData(672, 25)]     // 150 people
    [InlineData(15_120, 5)]   // competition scale: as many passes as the default set, not fewer
    [InlineData(50, 30)]      // a handful of photos: capped
    [InlineData(3_361, 5)]
    [InlineData(3_359, 6)]
    public void Auto_shows_the_model_the_default_sets_photos_within_its_bounds(int trainPhotos, int epochs)
    {
        Assert.Equal(epochs, ScheduleSpec.AutoEpochs(trainPhotos));
        Assert.Equal(epochs, new RunConfig().EpochsFor(trainPhotos));
        Assert.Equal(7, RunConfig.Load(null, ["epochs=7"]).EpochsFor(trainPhotos));
    }

    [Fact]
    public void Auto_is_the_default_is_written_as_auto_and_a_number_wins()
    {
        var config = new RunConfig();
        Assert.Null(config.Epochs);
        Assert.Contains("epochs: auto", config.ToYaml());
        Assert.Null(RunConfig.Load(null, ["epochs=auto"]).Epochs);
        Assert.Null(config.Clone().Epochs);
        Assert.Equal(3, RunConfig.Load(null, ["epochs=3"]).Epochs);
        // The schedule needs a number: epochs auto is decided by the data first.
        Assert.Throws<InvalidOperationException>(() => config.Schedule);
        var resolved = config.WithEpochsFor(1_680);
        Assert.Equal(10, resolved.Epochs);
        Assert.Equal(10, resolved.Schedule.Epochs);
        Assert.Null(config.Epochs);
        // freeze_epochs is checked against the fewest epochs auto trains.
        Assert.Contains("freeze_epochs", Assert.Throws<MaskLabInputException>(() => RunConfig.Load(null, ["freeze_epochs=6"]).Validate()).Message);
        RunConfig.Load(null, ["freeze_epochs=5"]).Validate();
    }

    [Fact]
    public void A_run_with_epochs_auto_trains_what_its_data_asks_records_it_and_counts_as_finished()
    {
        var dir = new RunDirectory(Path.Combine(Directory.CreateTempSubdirectory("masklab-auto-epochs-").FullName, "run"));
        var config = RunConfig.Load(null, [$"data={FaultData.Root}", "epochs=auto", .. FaultData.TinyKeys, "face_crop=none"]).Validate();
        var observer = new RecordingObserver();
        new RunJob(config, dir, observer).Run(CancellationToken.None, end: new RunEnd(Predict: false, Report: false));
        var summary = dir.ReadSummary()!.Training;
        int trainPhotos = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.SplitFile)).RootElement.GetProperty("train_images").GetInt32();
        int expected = ScheduleSpec.AutoEpochs(trainPhotos);
        Assert.Equal(expected, summary.EpochsPlanned);
        Assert.Equal(expected, summary.EpochsRun);
        Assert.Equal(expected, dir.ReadMetrics().Count);
        Assert.Contains(observer.Stages, s => s.StartsWith($"epochs {expected} (auto: ", StringComparison.Ordinal));
        var meta = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(dir.MetadataFile))!["epochs"]!;
        Assert.Equal("auto", meta["setting"]!.GetValue<string>());
        Assert.Equal(expected, meta["resolved"]!.GetValue<int>());
        // The run keeps epochs auto in its config, and is finished by the count it decided.
        Assert.Null(dir.ReadConfig().Epochs);
        Assert.Equal(RunState.Finished, RunStates.Of(dir, dir.ReadConfig().Epochs));
        Assert.Equal(RunState.Unfinished, RunStates.Of(dir, expected + 1));
    }
}
