using MaskLab.Models;
using MaskLab.Platform;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MaskLab.Tests;

/// <summary>resnet18_mlnet without its weights: layout, sizes, names, and the backbone / head split of every model.</summary>
public sealed class MlNetResNet18ModelTests : IDisposable
{
    readonly TempDir _dir = new();

    public MlNetResNet18ModelTests() => NativeSetup.Initialize();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_layout_is_the_onnx_graphs_22_convolutions_with_three_blocks_in_the_last_stage()
    {
        using var model = ModelRegistry.Create("resnet18_mlnet", new ModelSpec(18, 224, 224));
        var modules = model.named_modules().ToList();
        Assert.Equal(22, modules.Count(m => m.module is Conv2d));
        Assert.Equal(22, modules.Count(m => m.module is BatchNorm2d));
        Assert.All(modules.Where(m => m.module is Conv2d), m => Assert.True(((Conv2d)m.module).bias is null, m.name));
        var blocks = modules.Select(m => m.name).Where(n => n.Count(c => c == '.') == 1 && n.StartsWith("layer", StringComparison.Ordinal)).ToList();
        Assert.Equal(["layer1.0", "layer1.1", "layer2.0", "layer2.1", "layer3.0", "layer3.1", "layer4.0", "layer4.1", "layer4.2"], blocks);
        Assert.Equal(new long[] { 18, 512 }, ((Linear)modules.Single(m => m.name == "fc").module).weight!.shape);
    }

    [Theory]
    [InlineData(64, 48)]
    [InlineData(131, 97)]
    [InlineData(225, 225)]
    public void Random_initialisation_works_at_any_size_with_512_features(int width, int height)
    {
        using var scope = NewDisposeScope();
        using var model = new MlNetResNet18(5);
        model.eval();
        using var _ = no_grad();
        var x = randn(2, 3, height, width);
        Assert.Equal(new long[] { 2, 512 }, model.forward_features(x).shape);
        var logits = model.call(x);
        Assert.Equal(new long[] { 2, 5 }, logits.shape);
        Assert.True(isfinite(logits).all().item<bool>());
    }

    [Fact]
    public void A_saved_state_dict_loads_back_and_torchvisions_resnet18_is_refused_by_name()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        using var source = new MlNetResNet18(18);
        source.eval();
        var file = _dir.Combine("mlnet.safetensors");
        source.save_safetensors(file);
        manual_seed(2);
        using var target = new MlNetResNet18(18);
        target.eval();
        var x = randn(1, 3, 65, 63);
        var report = Pretrained.Load(target, file, 18);
        Assert.Empty(report.SkippedClassifier);
        using (no_grad())
            Assert.True(allclose(source.call(x), target.call(x), rtol: 1e-5, atol: 1e-6));

        using var torchvision = ModelRegistry.Create("resnet18", new ModelSpec(18, 64, 64));
        var tvFile = _dir.Combine("tv.pth");
        torchvision.save_py(tvFile);
        var e = Assert.Throws<MaskLabInputException>(() => Pretrained.Load(target, tvFile, 18));
        Assert.Contains("layer4.2.conv1.weight", e.Message);
    }

    [Theory]
    [InlineData("resnet18_mlnet", 18, "fc")]
    [InlineData("resnet18", 18, "fc")]
    [InlineData("baseline", 18, "fc")]
    [InlineData("mobilenet_v3_small", 18, "classifier.3")]
    [InlineData("efficientnet_b0", 8, "classifier.1")]
    [InlineData("vit_tiny_patch16", 18, "head")]
    public void The_backbone_and_head_split_every_parameter_once(string name, int outputs, string head)
    {
        using var model = ModelRegistry.Create(name, new ModelSpec(outputs, 64, 48));
        var split = BackboneSplit.Of(model, outputs);
        var all = model.named_parameters().ToList();
        var handles = (IEnumerable<Parameter> ps) => ps.Select(p => p.Handle).ToHashSet();
        var backbone = handles(split.Backbone);
        var headSet = handles(split.Head);
        Assert.Empty(backbone.Intersect(headSet));
        Assert.Equal(all.Count, backbone.Count + headSet.Count);
        Assert.Equal(all.Where(p => p.name.StartsWith(head + ".", StringComparison.Ordinal)).Select(p => p.parameter.Handle).ToHashSet(), headSet);
        Assert.Equal(2, headSet.Count);
    }

    [Fact]
    public void A_model_without_a_head_of_that_width_is_an_input_error()
    {
        using var model = ModelRegistry.Create("baseline", new ModelSpec(18, 64, 48));
        var e = Assert.Throws<MaskLabInputException>(() => BackboneSplit.Of(model, 7));
        Assert.Contains("7 outputs", e.Message);
    }

    [Fact]
    public void Backbone_norm_layers_in_eval_mode_keep_their_statistics_while_the_rest_trains()
    {
        using var scope = NewDisposeScope();
        using var model = new MlNetResNet18(3);
        var norms = BackboneSplit.BackboneNormLayers(model, 3);
        Assert.Equal(22, norms.Count);
        Assert.All(norms, n => Assert.IsType<BatchNorm2d>(n));
        var before = model.state_dict().Where(e => e.Key.EndsWith("running_mean", StringComparison.Ordinal)).ToDictionary(e => e.Key, e => e.Value.clone());

        model.train();
        foreach (var n in norms) n.eval();
        model.call(randn(2, 3, 40, 40)).sum().backward();
        Assert.All(before, e => Assert.True(model.state_dict()[e.Key].eq(e.Value).all().item<bool>(), e.Key));

        model.train();
        model.call(randn(2, 3, 40, 40));
        Assert.Contains(before, e => !model.state_dict()[e.Key].eq(e.Value).all().item<bool>());
    }
}
