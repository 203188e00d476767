using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Tests;

/// <summary>Fine-tuning a backbone: its own learning rate, frozen epochs, frozen BatchNorm statistics, embedded weights.</summary>
[Collection(TorchRngCollection.Name)]
public class FineTuneTests
{
    static RunConfig Tiny(params string[] overrides) => RunConfig.Load(null,
        new[] { $"data={TinySynthetic.Root}", "model=resnet18_mlnet", "pretrained=none", "image_size=24x32", "epochs=1",
                "batch_size=16", "lr=0.003", "warmup_epochs=0", "seed=5", "threads=2", "age_head=none" }.Concat(overrides)).Validate();

    static (nn.Module<Tensor, Tensor> Fresh, nn.Module<Tensor, Tensor> Trained) TrainAndReload(RunConfig config)
    {
        var dir = Directory.CreateTempSubdirectory("masklab-finetune-").FullName;
        new RunJob(config, new RunDirectory(dir)).Run(CancellationToken.None, end: new RunEnd(Predict: false, Report: false));
        // The trainer seeds torch, then builds the model: the same seed rebuilds its starting point.
        torch.manual_seed(config.Seed);
        var fresh = ModelRegistry.Create(config.Model, new ModelSpec(18, config.ImageSize.Width, config.ImageSize.Height));
        using var run = TrainedRun.Load(dir);
        var trained = ModelRegistry.Create(config.Model, new ModelSpec(18, config.ImageSize.Width, config.ImageSize.Height));
        trained.load_state_dict(run.Model.state_dict());
        return (fresh, trained);
    }

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.allclose(b, rtol: 0, atol: 0);

    [Fact]
    public void A_frozen_backbone_with_frozen_statistics_stays_as_it_started_while_the_head_learns()
    {
        var (fresh, trained) = TrainAndReload(Tiny("freeze_epochs=1", "freeze_bn=true"));
        var before = fresh.state_dict();
        var after = trained.state_dict();
        var head = BackboneSplit.Of(trained, 18).Head.Select(p => p.Handle).ToHashSet();
        var headNames = trained.named_parameters().Where(p => head.Contains(p.parameter.Handle)).Select(p => p.name).ToHashSet();
        Assert.Equal(["fc.bias", "fc.weight"], headNames.Order());
        foreach (var (name, value) in after)
        {
            if (headNames.Contains(name)) Assert.False(Same(before[name], value), $"{name} did not train");
            else if (!name.EndsWith("num_batches_tracked", StringComparison.Ordinal))
                Assert.True(Same(before[name], value), $"{name} changed although the backbone was frozen");
        }
    }

    [Fact]
    public void Without_freezing_the_backbone_and_its_statistics_train()
    {
        var (fresh, trained) = TrainAndReload(Tiny("backbone_lr_scale=0.1"));
        var before = fresh.state_dict();
        var after = trained.state_dict();
        Assert.False(Same(before["conv1.weight"], after["conv1.weight"]));
        Assert.False(Same(before["bn1.running_mean"], after["bn1.running_mean"]));
    }

    [Fact]
    public void Backbone_and_head_get_their_fractions_of_the_learning_rate()
    {
        torch.manual_seed(1);
        using var model = ModelRegistry.Create("resnet18_mlnet", new ModelSpec(18, 32, 32));
        var split = BackboneSplit.Of(model, 18);
        using var opt = Optimizers.Create([(split.Backbone, 0.1), (split.Head, 1.0)], new OptimizerSpec(OptimizerKind.AdamW, 0.01, 0, 0));
        Assert.Equal([0.001, 0.01], opt.ParamGroups.Select(g => Math.Round(g.LearningRate, 12)));
        using var plain = Optimizers.Create([(model.parameters(), 1.0)], new OptimizerSpec(OptimizerKind.Sgd, 0.01, 0, 0.9));
        Assert.Single(plain.ParamGroups);
    }

    [Fact]
    public void Embedded_weights_are_taken_where_the_model_has_them_and_refused_where_it_has_none()
    {
        var auto = RunConfig.Load(null, ["model=resnet18_mlnet"]).Validate();
        Assert.NotNull(auto.EmbeddedWeights);
        Assert.NotNull(auto.Input);
        Assert.Null(RunConfig.Load(null, ["model=resnet18_mlnet", "pretrained=none"]).Validate().Input);
        Assert.Null(RunConfig.Load(null, ["model=baseline"]).Validate().EmbeddedWeights);
        var e = Assert.Throws<MaskLabInputException>(() => RunConfig.Load(null, ["model=baseline", "pretrained=imagenet"]).Validate());
        Assert.Contains("resnet18_mlnet", e.Message);
        Assert.Contains("freeze_epochs", Assert.Throws<MaskLabInputException>(() => RunConfig.Load(null, ["epochs=2", "freeze_epochs=3"]).Validate()).Message);
    }

    [Fact]
    public void The_loader_applies_the_pretrained_input_normalisation_to_whole_batches()
    {
        var set = DataLocator.ReadLabeled(TinySynthetic.Root);
        var cache = new ImageCache(32, 24);
        var input = RunConfig.Load(null, ["model=resnet18_mlnet"]).Validate().Input!;
        int[] indices = [0, 1, 2];
        using var plain = new BatchLoader(set.Samples, indices, s => s.Label, cache,
            LoaderOptions.ForEvaluation(3, 32, 24) with { Normalization = InputNormalization.LoaderPassThrough }).Epoch(0).Single();
        using var normalised = Inference.Loader(set.Samples, indices, cache, new ImageSize(32, 24), 1, input).Epoch(0).Single();
        using var expected = input.Apply(plain.Images);
        Assert.True(expected.allclose(normalised.Images, rtol: 1e-5, atol: 1e-4));
        Assert.True(normalised.Images.abs().max().item<float>() > 10, "the pretrained input is on a 0..255 scale");
    }
}
