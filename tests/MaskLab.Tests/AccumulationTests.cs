using MaskLab.Data.Layout;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Tests;

/// <summary>accumulate: N: batches summed into one update equal one N-times batch where nothing depends on the batch's makeup.</summary>
/// <remarks>Alone: the runs compared start from weights drawn from torch's global generator, which a test beside them would move.</remarks>
[Collection(TorchRngCollection.Name)]
public class AccumulationTests
{
    static readonly IOutputHead Head = OutputHeads.Create(5, LossRegistry.Create("cross_entropy", new LossOptions(5)));

    /// <summary>A small conv net; with <paramref name="batchNorm"/> it has a BatchNorm layer, which the caller keeps in eval mode.</summary>
    static Sequential Net(bool batchNorm)
    {
        torch.manual_seed(7);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)> { ("conv", nn.Conv2d(3, 6, 3, padding: 1)) };
        if (batchNorm) layers.Add(("bn", nn.BatchNorm2d(6)));
        layers.AddRange([("relu", nn.ReLU()), ("pool", nn.AdaptiveAvgPool2d(2)), ("flat", nn.Flatten()), ("fc", nn.Linear(24, 5))]);
        return nn.Sequential(layers);
    }

    static Dictionary<string, Tensor> Weights(nn.Module model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    /// <summary>The weights after one update from a batch of 8 given whole, and given as <paramref name="parts"/> accumulated parts.</summary>
    static (Dictionary<string, Tensor> Whole, Dictionary<string, Tensor> Accumulated) OneUpdate(
        bool batchNorm, Func<IEnumerable<Parameter>, OptimizerHelper> optimizer, int parts, Precision precision = Precision.Fp32,
        bool fp16 = false)
    {
        torch.manual_seed(11);
        var x = randn(8, 3, 8, 8);
        var y = tensor(new long[] { 0, 1, 2, 3, 4, 0, 1, 2 });

        Dictionary<string, Tensor> Train(bool split)
        {
            using var model = Net(batchNorm);
            using var opt = optimizer(model.parameters());
            using var step = fp16 ? new Fp16TrainStep(model, () => Net(batchNorm), opt, Head)
                : TrainSteps.Create(precision, model, () => Net(batchNorm), opt, Head);
            step.BeginEpoch();
            if (batchNorm) model.eval(); // running statistics, as in inference: the same for any batch
            if (step is Bf16TrainStep mixed && batchNorm) mixed.Working.eval();
            if (!split) step.Run(x, y);
            else
            {
                int size = 8 / parts;
                for (int p = 0; p < parts; p++)
                {
                    float loss = step.Accumulate(x.narrow(0, p * size, size), y.narrow(0, p * size, size), 1.0 / parts);
                    Assert.True(float.IsFinite(loss));
                }
                step.Update();
            }
            return Weights(model);
        }

        return (Train(split: false), Train(split: true));
    }

    static double MaxDifference(Dictionary<string, Tensor> a, Dictionary<string, Tensor> b) =>
        a.Keys.Max(k => (a[k].to_type(ScalarType.Float64) - b[k].to_type(ScalarType.Float64)).abs().max().item<double>());

    static double MaxChange(Dictionary<string, Tensor> after, bool batchNorm)
    {
        using var start = Net(batchNorm);
        var before = Weights(start);
        return MaxDifference(after, before);
    }

    [Theory]
    [InlineData(false, 2)]
    [InlineData(false, 4)]
    [InlineData(true, 2)]
    public void AccumulatedParts_GiveTheWeightsOfOneBigBatch_Sgd(bool batchNorm, int parts)
    {
        var (whole, accumulated) = OneUpdate(batchNorm, p => optim.SGD(p, 0.5), parts);
        // The update itself is far larger than the tolerance: the comparison can fail.
        Assert.True(MaxChange(whole, batchNorm) > 1e-3, $"update {MaxChange(whole, batchNorm)}");
        Assert.True(MaxDifference(whole, accumulated) < 1e-6, $"max difference {MaxDifference(whole, accumulated):E2}");
    }

    [Fact]
    public void AccumulatedParts_GiveTheWeightsOfOneBigBatch_AdamW()
    {
        var (whole, accumulated) = OneUpdate(false, p => optim.AdamW(p, 0.01), 2);
        Assert.True(MaxChange(whole, false) > 1e-3);
        Assert.True(MaxDifference(whole, accumulated) < 1e-6, $"max difference {MaxDifference(whole, accumulated):E2}");
    }

    [Fact]
    public void WeightOfOne_WithoutAccumulating_IsNotTheSameAsTheBigBatch()
    {
        // The check has teeth: two parts at weight 1 (a sum, not a mean) give a different update than the big batch.
        torch.manual_seed(11);
        var x = randn(8, 3, 8, 8);
        var y = tensor(new long[] { 0, 1, 2, 3, 4, 0, 1, 2 });
        using var a = Net(false);
        using var b = Net(false);
        using var optA = optim.SGD(a.parameters(), 0.5);
        using var optB = optim.SGD(b.parameters(), 0.5);
        using var stepA = TrainSteps.Create(Precision.Fp32, a, () => Net(false), optA, Head);
        using var stepB = TrainSteps.Create(Precision.Fp32, b, () => Net(false), optB, Head);
        stepA.BeginEpoch();
        stepB.BeginEpoch();
        stepA.Run(x, y);
        stepB.Accumulate(x.narrow(0, 0, 4), y.narrow(0, 0, 4), 1);
        stepB.Accumulate(x.narrow(0, 4, 4), y.narrow(0, 4, 4), 1);
        stepB.Update();
        Assert.True(MaxDifference(Weights(a), Weights(b)) > 1e-3);
    }

    [Fact]
    public void Bf16_AccumulatesInFp32_AndLandsNearTheBigBatch()
    {
        // bf16 rounds the forward and backward (about 3 significant digits), so the two differ by rounding only:
        // far less than the update itself.
        var (whole, accumulated) = OneUpdate(false, p => optim.SGD(p, 0.5), 2, Precision.Bf16);
        double change = MaxChange(whole, false), diff = MaxDifference(whole, accumulated);
        Assert.True(diff < 0.05 * change, $"difference {diff:E2} against an update of {change:E2}");
    }

    [Fact]
    public void Fp16_SumsScaledGradientsInFp32_UnscalesOnce_AndLandsNearTheBigBatch()
    {
        var (whole, accumulated) = OneUpdate(false, p => optim.SGD(p, 0.5), 2, fp16: true);
        double change = MaxChange(whole, false), diff = MaxDifference(whole, accumulated);
        Assert.True(change > 1e-3, $"update {change:E2}: the steps were skipped");
        Assert.True(diff < 0.01 * change, $"difference {diff:E2} against an update of {change:E2}");
    }

    [Fact]
    public void Accumulate_IsAConfigKey_AtLeastOne()
    {
        Assert.Equal(4, RunConfig.Load(null, ["accumulate=4"]).Validate().Accumulate);
        var e = Assert.Throws<MaskLabInputException>(() => RunConfig.Load(null, ["accumulate=0"]).Validate());
        Assert.Equal("accumulate 0 is not valid: must be positive", e.Message);
    }

    [Fact]
    public void Trainer_BatchOf16Accumulated2_EndsWhereBatchOf32Does()
    {
        // ViT-Tiny has neither BatchNorm nor dropout, so nothing in it depends on how a batch is made up. The shuffle
        // order and each photo's augmentation depend on (seed, epoch, photo) only, and the learning rate is set at each
        // update from its place in the epoch: 64 photos as 2 batches of 32, or 4 of 16 summed in pairs, make the same
        // 2 updates. SGD, not Adam: Adam's first steps are about lr x sign(gradient), which turns float rounding in a
        // near-zero gradient into a whole step.
        var data = TrainingData.Load(RunConfig.Load(null, [$"data={TinySynthetic.Root}", "image_size=32x32", "face_crop=none"]).Validate().DataSection,
            SilentObserver.Instance, CancellationToken.None);
        data = data.WithSplit((data.TrainIndices.Take(64).ToArray(), data.ValIndices.Take(8).ToArray()));

        Dictionary<string, Tensor> TrainOnce(int batch, int accumulate)
        {
            var config = RunConfig.Load(null, [$"data={TinySynthetic.Root}", "model=vit_tiny_patch16", "image_size=32x32", "epochs=1",
                $"batch_size={batch}", $"accumulate={accumulate}", "optimizer=sgd", "lr=0.05", "warmup_epochs=0", "seed=4", "threads=2", "age_head=none", "precision=fp32", "face_crop=none"]).Validate();
            var run = new RunDirectory(Directory.CreateTempSubdirectory("masklab-accumulate-").FullName);
            run.Create();
            new Trainer(config, run).Train(data, CancellationToken.None, resume: false);
            using var model = ModelRegistry.Create("vit_tiny_patch16", new ModelSpec(TaskClasses.Count, 32, 32));
            Checkpoint.Load(run.LastCheckpoint, model);
            return Weights(model);
        }

        var big = TrainOnce(32, 1);
        var accumulated = TrainOnce(16, 2);
        var unaccumulated = TrainOnce(16, 1);
        Assert.True(MaxDifference(big, accumulated) < 1e-5, $"max difference {MaxDifference(big, accumulated):E2}");
        // Four updates of 16 land elsewhere: the comparison can fail.
        Assert.True(MaxDifference(big, unaccumulated) > 1e-4, $"max difference {MaxDifference(big, unaccumulated):E2}");
    }
}
