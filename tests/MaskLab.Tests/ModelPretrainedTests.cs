using MaskLab.Models;
using MaskLab.Platform;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MaskLab.Tests;

public sealed class ModelPretrainedTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("masklab-weights-").FullName;

    public ModelPretrainedTests() => NativeSetup.Initialize();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static nn.Module<Tensor, Tensor> Make(string name, int classes, int w = 64, int h = 48)
    {
        var m = ModelRegistry.Create(name, new ModelSpec(classes, w, h));
        m.eval();
        return m;
    }

    /// <summary>BatchNorm statistics away from their 0 / 1 start, so a load that skipped them would show.</summary>
    static void Perturb(nn.Module model)
    {
        using var _ = no_grad();
        foreach (var (name, t) in model.state_dict())
            if (name.EndsWith("running_mean")) t.copy_(randn_like(t) * 0.1);
            else if (name.EndsWith("running_var")) t.copy_(rand_like(t) + 0.5);
    }

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    static Tensor Run(nn.Module<Tensor, Tensor> model, Tensor x)
    {
        using var _ = no_grad();
        return model.call(x);
    }

    [Theory]
    [InlineData("resnet18", ".pth")]
    [InlineData("vit_tiny_patch16", ".safetensors")]
    [InlineData("mobilenet_v3_small", ".pt")]
    public void A_saved_state_dict_loads_back_and_gives_the_same_outputs(string name, string ext)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var source = Make(name, 18);
        Perturb(source);
        var file = Path.Combine(_dir, name + ext);
        if (ext == ".safetensors") source.save_safetensors(file); else source.save_py(file);

        manual_seed(4);
        using var target = Make(name, 18);
        var x = randn(2, 3, 48, 64);
        Assert.False(allclose(Run(source, x), Run(target, x)));

        var report = Pretrained.Load(target, file, 18);
        Assert.Empty(report.SkippedClassifier);
        Assert.Equal(source.state_dict().Count, report.Loaded);
        Assert.True(allclose(Run(source, x), Run(target, x), rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void The_classifier_is_skipped_when_the_class_count_differs()
    {
        using var scope = NewDisposeScope();
        using var imagenet = Make("efficientnet_b0", 1000);
        var file = Path.Combine(_dir, "b0-1000.pth");
        imagenet.save_py(file);

        using var task = Make("efficientnet_b0", 18);
        var headBefore = task.state_dict()["classifier.1.weight"].clone();
        var report = Pretrained.Load(task, file, 18);

        Assert.Equal(new[] { "classifier.1.bias", "classifier.1.weight" }, report.SkippedClassifier.Order());
        Assert.True(Same(headBefore, task.state_dict()["classifier.1.weight"]));
        Assert.True(Same(imagenet.state_dict()["features.3.1.block.1.0.weight"], task.state_dict()["features.3.1.block.1.0.weight"]));
    }

    [Fact]
    public void Timm_efficientnet_names_are_mapped()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        using var source = Make("efficientnet_b0", 18);
        Perturb(source);
        var toTimm = ((EfficientNet)source).TimmPaths.ToDictionary(e => e.Value, e => e.Key);
        var timm = new Dictionary<string, Tensor>();
        foreach (var (key, t) in source.state_dict())
        {
            var dot = key.LastIndexOf('.');
            timm[toTimm[key[..dot]] + key[dot..]] = t;
        }
        Assert.Contains("blocks.0.0.conv_dw.weight", timm.Keys);
        Assert.Contains("blocks.1.0.conv_pwl.weight", timm.Keys);
        Assert.Contains("conv_head.weight", timm.Keys);
        var file = Path.Combine(_dir, "timm-b0.safetensors");
        Safetensors.SaveStateDict(file, timm);

        using var target = Make("efficientnet_b0", 18);
        Pretrained.Load(target, file, 18);
        var x = randn(2, 3, 48, 64);
        Assert.True(allclose(Run(source, x), Run(target, x), rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Vit_position_embeddings_of_another_grid_are_resampled_to_the_stored_one()
    {
        using var scope = NewDisposeScope();
        using var source = Make("vit_tiny_patch16", 18);
        var sd = source.state_dict().ToDictionary(e => e.Key, e => e.Value);
        sd["pos_embed"] = randn(1, 1 + 24 * 24, 192);   // as trained at 384x384
        var file = Path.Combine(_dir, "vit384.safetensors");
        Safetensors.SaveStateDict(file, sd);

        using var target = Make("vit_tiny_patch16", 18);
        Pretrained.Load(target, file, 18);
        var loaded = target.state_dict()["pos_embed"];
        Assert.Equal(new long[] { 1, 197, 192 }, loaded.shape);
        Assert.True(Same(sd["pos_embed"].narrow(1, 0, 1), loaded.narrow(1, 0, 1)));
    }

    [Fact]
    public void Weights_of_another_architecture_fail_with_the_missing_and_unexpected_keys()
    {
        using var scope = NewDisposeScope();
        using var r18 = Make("resnet18", 18);
        var file = Path.Combine(_dir, "r18.pth");
        r18.save_py(file);
        using var r34 = Make("resnet34", 18);
        var before = r34.state_dict()["conv1.weight"].clone();

        var e = Assert.Throws<MaskLabInputException>(() => Pretrained.Load(r34, file, 18));
        Assert.Contains(file, e.Message);
        Assert.Contains("missing", e.Message);
        Assert.Contains("layer1.2.conv1.weight", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        Assert.True(Same(before, r34.state_dict()["conv1.weight"]), "a failed load must not change the model");

        using var mobile = Make("mobilenet_v3_small", 18);
        e = Assert.Throws<MaskLabInputException>(() => Pretrained.Load(mobile, file, 18));
        Assert.Contains("unexpected", e.Message);
        Assert.Contains("bn1.bias, bn1.num_batches_tracked, bn1.running_mean", e.Message);   // listed in natural order
    }

    [Fact]
    public void Shape_mismatches_name_both_shapes()
    {
        using var scope = NewDisposeScope();
        using var at224 = Make("mixer_s16", 18, 224, 224);
        var file = Path.Combine(_dir, "mixer224.safetensors");
        at224.save_safetensors(file);
        using var at64 = Make("mixer_s16", 18, 64, 48);

        var e = Assert.Throws<MaskLabInputException>(() => Pretrained.Load(at64, file, 18));
        Assert.Contains("shape mismatch 24", e.Message);   // token MLP fc1.weight, fc2.weight, fc2.bias in 8 blocks
        Assert.Contains("blocks.0.mlp_tokens.fc1.weight [256, 196] vs model [256, 12]", e.Message);
    }

    [Fact]
    public void Missing_or_unreadable_files_are_input_errors_naming_the_file()
    {
        using var model = Make("resnet18", 18);
        var missing = Path.Combine(_dir, "nope.pth");
        Assert.Contains(missing, Assert.Throws<MaskLabInputException>(() => Pretrained.Load(model, missing, 18)).Message);

        var garbage = Path.Combine(_dir, "garbage.pt");
        File.WriteAllText(garbage, "not a checkpoint");
        Assert.Contains(garbage, Assert.Throws<MaskLabInputException>(() => Pretrained.Load(model, garbage, 18)).Message);

        var other = Path.Combine(_dir, "weights.onnx");
        File.WriteAllText(other, "x");
        Assert.Contains(other, Assert.Throws<MaskLabInputException>(() => Pretrained.Load(model, other, 18)).Message);
    }
}
