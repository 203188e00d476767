using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MaskLab.Tests;

/// <summary>
/// timm checkpoints load through <c>weights=FILE</c>: a state_dict with timm's tensor names and shapes for each model
/// (TimmKeys/*.txt, listed from timm's own model code) goes through <see cref="Pretrained.Load"/> into the registry's
/// model of the same architecture with every tensor landing and none left over. timm's outputs are not compared here.
/// </summary>
public sealed class TimmKeyListTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("masklab-timm-keys-").FullName;

    public TimmKeyListTests() => NativeSetup.Initialize();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Tensor names and shapes of one timm model, from its embedded key list.</summary>
    static List<(string Name, long[] Shape)> KeyList(string timmName)
    {
        using var stream = typeof(TimmKeyListTests).Assembly.GetManifestResourceStream($"TimmKeys.{timmName}.txt")
            ?? throw new InvalidOperationException($"no embedded key list for {timmName}");
        using var reader = new StreamReader(stream);
        var keys = new List<(string, long[])>();
        int? declared = null;
        while (reader.ReadLine() is { } line)
        {
            if (line.StartsWith("# ") && line.EndsWith(" ([] is a scalar).")) declared = int.Parse(line[2..line.IndexOf(' ', 2)]);
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var parts = line.Split(' ');
            var dims = parts[1].Trim('[', ']');
            keys.Add((parts[0], dims.Length == 0 ? [] : dims.Split(',').Select(long.Parse).ToArray()));
        }
        // The header's count guards against a list cut short.
        Assert.Equal(declared, keys.Count);
        return keys;
    }

    /// <summary>
    /// Values that tell each tensor from every other (so one copied into the wrong slot would show) and keep a
    /// forward pass finite: small weights, positive BatchNorm variances.
    /// </summary>
    static Tensor Synthetic(string name, long[] shape) =>
        name.EndsWith(".num_batches_tracked") ? tensor(7L)
        : name.EndsWith(".running_var") ? rand(shape) + 0.5
        : randn(shape) * 0.02;

    [Theory]
    [InlineData("vit_tiny_patch16_224", "vit_tiny_patch16")]
    [InlineData("vit_small_patch16_224", "vit_small_patch16")]
    [InlineData("mixer_s16_224", "mixer_s16")]
    [InlineData("mixer_b16_224", "mixer_b16")]
    [InlineData("efficientnet_b0", "efficientnet_b0")]
    [InlineData("efficientnet_b1", "efficientnet_b1")]
    [InlineData("efficientnet_b2", "efficientnet_b2")]
    [InlineData("efficientnet_b3", "efficientnet_b3")]
    public void A_timm_state_dict_loads_every_tensor_into_the_registry_model(string timmName, string model)
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        var keys = KeyList(timmName);
        using var net = ModelRegistry.Create(model, new ModelSpec(1000, 224, 224));
        net.eval();

        // Names and shapes first, so a mismatch names every offending key rather than failing on the first.
        var mapping = net as IWeightMapping;
        var target = net.state_dict();
        var mapped = keys.ToDictionary(k => mapping?.MapKey(k.Name) ?? k.Name, k => k);
        Assert.Equal(keys.Count, mapped.Count);
        Assert.Empty(mapped.Keys.Except(target.Keys).Order());
        Assert.Empty(target.Keys.Except(mapped.Keys).Order());
        Assert.Empty(mapped
            .Where(e => !e.Value.Shape.SequenceEqual(target[e.Key].shape))
            .Select(e => $"{e.Value.Name} [{string.Join(",", e.Value.Shape)}] vs [{string.Join(",", target[e.Key].shape)}]"));

        var source = keys.ToDictionary(k => k.Name, k => Synthetic(k.Name, k.Shape));
        var file = Path.Combine(_dir, timmName + ".safetensors");
        Safetensors.SaveStateDict(file, source);

        var report = Pretrained.Load(net, file, 1000);
        Assert.Equal(keys.Count, report.Loaded);
        Assert.Empty(report.SkippedClassifier);
        Assert.Empty(report.Ignored);
        var loaded = net.state_dict();
        foreach (var (name, _) in keys)
        {
            var slot = loaded[mapping?.MapKey(name) ?? name];
            Assert.True(slot.to(source[name].dtype).eq(source[name]).all().item<bool>(), $"{name} did not land in its slot");
        }

        using var _ = no_grad();
        var logits = net.call(randn(1, 3, 224, 224));
        Assert.Equal(new long[] { 1, 1000 }, logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
    }
}
