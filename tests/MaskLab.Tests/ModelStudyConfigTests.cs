using MaskLab.Models;
using MaskLab.Training;
using YamlDotNet.Serialization;

namespace MaskLab.Tests;

/// <summary>configs/model-study.yaml: every run it defines is a valid training config.</summary>
public class ModelStudyConfigTests
{
    static string Scalar(object? v) => v switch
    {
        null => "",
        IEnumerable<object> list => string.Join(",", list),
        _ => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)!,
    };

    [Fact]
    public void EveryRunValidatesAtEqualBudget()
    {
        var file = Path.Combine(RepoRoot.Path, "configs", "model-study.yaml");
        var sweep = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object?>>(File.ReadAllText(file));
        var basePath = Path.Combine(Path.GetDirectoryName(file)!, Assert.IsType<string>(sweep["base"]));
        var set = ((Dictionary<object, object?>)sweep["set"]!).Select(kv => $"{kv.Key}={Scalar(kv.Value)}").ToList();
        var runs = ((List<object?>)sweep["runs"]!).Cast<Dictionary<object, object?>>().ToList();

        var configs = runs.Select(run => RunConfig.Load(basePath, [.. set, .. run.Select(kv => $"{kv.Key}={Scalar(kv.Value)}")]).Validate()).ToList();
        Assert.Equal(new[] { "resnet18", "vgg11_bn", "googlenet", "efficientnet_b0", "vit_tiny_patch16", "mixer_s16" }, configs.Select(c => c.Model));

        // Equal budget: only the model differs between runs.
        var first = configs[0].ToMap();
        foreach (var c in configs.Skip(1))
            Assert.Equal(first.Where(kv => kv.Key != "model"), c.ToMap().Where(kv => kv.Key != "model"));

        var size = configs[0].ImageSize;
        Assert.True(size.Width % 16 == 0 && size.Height % 16 == 0, $"{size} is not a multiple of 16");
        // The patch models are the ones that reject sizes: build them at the study's size.
        foreach (var name in new[] { "vit_tiny_patch16", "mixer_s16" })
        {
            using var model = ModelRegistry.Create(name, new ModelSpec(18, size.Width, size.Height));
            using var y = model.call(TorchSharp.torch.zeros(1, 3, size.Height, size.Width));
            Assert.Equal(new long[] { 1, 18 }, y.shape);
        }
    }
}
