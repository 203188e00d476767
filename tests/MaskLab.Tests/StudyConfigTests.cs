using MaskLab.Training;
using YamlDotNet.Serialization;

namespace MaskLab.Tests;

/// <summary>
/// The study files use the sweep format (base, set, seeds, grid, runs). This expands them the way that format
/// reads and checks that every run is a valid config, so a typo in a study fails here and not an hour into a sweep.
/// </summary>
public class StudyConfigTests
{
    static string ConfigsDir([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "configs"));

    static string Text(object? v) => v switch
    {
        null => "",
        IEnumerable<object> list when v is not string => string.Join(",", list),
        _ => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)!,
    };

    static List<TrainConfig> Expand(string file)
    {
        var doc = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object?>>(File.ReadAllText(file));
        var known = new[] { "base", "set", "seeds", "grid", "runs" };
        Assert.All(doc.Keys, k => Assert.Contains(k, known));
        var basePath = Path.Combine(Path.GetDirectoryName(file)!, (string)doc["base"]!);
        Assert.True(File.Exists(basePath), basePath);
        var common = new Dictionary<string, string>();
        if (doc.GetValueOrDefault("set") is Dictionary<object, object> set)
            foreach (var (k, v) in set) common[(string)k] = Text(v);

        var variants = new List<Dictionary<string, string>> { new() };
        if (doc.GetValueOrDefault("grid") is Dictionary<object, object> grid)
            foreach (var (k, values) in grid)
                variants = variants.SelectMany(v => ((List<object>)values).Select(x => new Dictionary<string, string>(v) { [(string)k] = Text(x) })).ToList();
        if (doc.GetValueOrDefault("runs") is List<object> runs)
            variants = variants.SelectMany(v => runs.Cast<Dictionary<object, object>>().Select(r =>
            {
                var d = new Dictionary<string, string>(v);
                foreach (var (k, x) in r) if ((string)k != "name") d[(string)k] = Text(x);
                return d;
            })).ToList();
        var seeds = doc.GetValueOrDefault("seeds") is List<object> s ? s.Select(Text).ToList() : [null!];

        var configs = new List<TrainConfig>();
        foreach (var v in variants)
            foreach (var seed in seeds)
            {
                var overrides = common.Concat(v).Select(kv => $"{kv.Key}={kv.Value}").ToList();
                if (seed is not null) overrides.Add($"seed={seed}");
                configs.Add(TrainConfig.Load(basePath, overrides).Validate());
            }
        return configs;
    }

    [Fact]
    public void CutmixStudyComparesNoneCutmixVerticalAndMixup()
    {
        var configs = Expand(Path.Combine(ConfigsDir(), "cutmix-study.yaml"));
        Assert.Equal(8, configs.Count);
        Assert.Contains(configs, c => c is { Cutmix: 0, CutmixVertical: 0, Mixup: 0 });
        Assert.Contains(configs, c => c.Cutmix > 0);
        Assert.Contains(configs, c => c.CutmixVertical > 0);
        Assert.Contains(configs, c => c.Mixup > 0);
    }

    [Fact]
    public void AgeCutStudyMovesOnlyTheUpperCut()
    {
        var configs = Expand(Path.Combine(ConfigsDir(), "age-cut-study.yaml"));
        Assert.Equal(new[] { 57, 58, 59, 60 }, configs.Select(c => c.TrainingAgeCuts.Upper).Distinct().Order());
        Assert.All(configs, c => Assert.Equal(30, c.TrainingAgeCuts.Lower));
    }

    [Fact]
    public void SplitStudyComparesPersonAndImageSplits()
    {
        var configs = Expand(Path.Combine(ConfigsDir(), "split-study.yaml"));
        Assert.Equal(new[] { "image", "person" }, configs.Select(c => c.Split).Distinct().Order());
        Assert.All(configs, c => Assert.True(c.Folds <= 1));
    }
}
