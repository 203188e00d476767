using MaskLab.Data;
using MaskLab.Training;

namespace MaskLab.Tests;

/// <summary>Learning tests: a fixed seed, a tiny set, and bounds that a broken model cannot reach.</summary>
public class TrainingTests
{
    static TrainConfig TinyConfig(string data, params string[] overrides) => TrainConfig.Load(null,
        new[] { $"data={data}", "model=baseline", "image_size=24x32", "epochs=6", "batch_size=16", "lr=0.003",
                "warmup_epochs=0", "seed=1", "threads=2" }.Concat(overrides)).Validate();

    static TrainSummary Train(TrainConfig config, Func<TrainingData, TrainingData>? alter = null)
    {
        var run = new RunDirectory(Directory.CreateTempSubdirectory("masklab-train-").FullName);
        var data = TrainingData.Load(config, SilentObserver.Instance, CancellationToken.None);
        if (alter is not null) data = alter(data);
        run.Create();
        return new Trainer(config, run).Train(data, CancellationToken.None, resume: false);
    }

    /// <summary>The same photos with the training labels dealt out at random: nothing to learn but the class priors.</summary>
    static TrainingData ShuffleTrainingLabels(TrainingData d)
    {
        var rng = new Random(5);
        var train = d.TrainIndices;
        var labels = train.Select(i => d.Set.Samples[i].Label).OrderBy(_ => rng.Next()).ToArray();
        var samples = d.Set.Samples.ToArray();
        for (int k = 0; k < train.Length; k++)
            samples[train[k]] = samples[train[k]] with { Label = labels[k], Person = null, Mask = null };
        return new TrainingData
        {
            Set = d.Set with { Samples = samples }, TrainIndices = d.TrainIndices, ValIndices = d.ValIndices,
            Cache = d.Cache, DataDir = d.DataDir, EvalDir = d.EvalDir,
        };
    }

    [Fact]
    public void LearnsFarAboveChanceWhileShuffledLabelsDoNot()
    {
        var config = TinyConfig(TinySynthetic.Root);
        var real = Train(config);
        var shuffled = Train(config, ShuffleTrainingLabels);

        // Mask state is the easy attribute: a model that learns anything gets it nearly right.
        Assert.True(real.BestValMaskF1 > 0.8, $"mask F1 {real.BestValMaskF1}");
        Assert.True(real.BestValMacroF1 > 0.25, $"val macro F1 {real.BestValMacroF1}");
        Assert.True(shuffled.BestValMacroF1 < 0.12, $"shuffled-label val macro F1 {shuffled.BestValMacroF1}");
        Assert.True(real.BestValMacroF1 > shuffled.BestValMacroF1 + 0.15);
    }
}
