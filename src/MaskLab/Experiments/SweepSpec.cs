using System.Globalization;
using MaskLab.Runs;
using YamlDotNet.Serialization;

namespace MaskLab.Experiments;

/// <summary>
/// A sweep file: a base config, overrides for every run, the seeds, and the settings to compare (a grid's
/// cartesian product and / or a list of override maps). Values are kept as the text a config file holds.
/// </summary>
public sealed record SweepSpec
{
    /// <summary>Every config key of the base after the sweep's <c>set</c> (and the command line's) is applied.</summary>
    public required IReadOnlyDictionary<string, string?> Base { get; init; }
    public required IReadOnlyList<int> Seeds { get; init; }
    public IReadOnlyList<KeyValuePair<string, IReadOnlyList<string>>> Grid { get; init; } = [];
    public IReadOnlyList<IReadOnlyList<KeyValuePair<string, string>>> Runs { get; init; } = [];

    static readonly string[] TopKeys = ["base", "set", "seeds", "grid", "runs"];

    /// <summary>
    /// Reads a sweep file. <paramref name="overrides"/> (key=value) and <paramref name="data"/> apply to the base
    /// after the file's own <c>set</c>. Bad shapes, unknown keys and bad values fail here, naming the file.
    /// </summary>
    public static SweepSpec Load(string file, IEnumerable<string>? overrides = null, string? data = null)
    {
        var root = Yaml.ReadFile(file, "sweep file");
        foreach (var k in root.Keys.Select(k => k.ToString()!))
            if (!TopKeys.Contains(k)) throw new MaskLabInputException($"unknown sweep key '{k}' in {file}; known: {string.Join(", ", TopKeys)}");

        var baseMap = root.GetValueOrDefault("base") switch
        {
            null => new RunConfig().ToMap(),
            string path => RunConfig.Load(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, path)).ToMap(),
            Dictionary<object, object?> inline => RunConfig.FromMap(Scalars(inline, file, "base"), $"{file} (base)").ToMap(),
            _ => throw new MaskLabInputException($"'base' in {file} must be a config file path or a mapping of config keys"),
        };
        if (root.GetValueOrDefault("set") is { } set)
        {
            if (set is not Dictionary<object, object?> setMap) throw new MaskLabInputException($"'set' in {file} must be a mapping of config keys");
            foreach (var (k, v) in Scalars(setMap, file, "set")) baseMap[k] = v;
        }
        Overrides.ApplyTo(baseMap, overrides);
        if (data is not null) baseMap["data"] = data;
        var baseConfig = RunConfig.FromMap(baseMap, file);

        var seeds = root.GetValueOrDefault("seeds") switch
        {
            null => [baseConfig.Seed],
            List<object> list when list.Count > 0 => list.Select(s => ParseSeed(s, file)).ToArray(),
            string one => [ParseSeed(one, file)],
            _ => throw new MaskLabInputException($"'seeds' in {file} must be a non-empty list of whole numbers"),
        };
        if (seeds.Distinct().Count() != seeds.Length) throw new MaskLabInputException($"'seeds' in {file} lists a seed twice");

        var grid = new List<KeyValuePair<string, IReadOnlyList<string>>>();
        if (root.GetValueOrDefault("grid") is { } g)
        {
            if (g is not Dictionary<object, object?> gridMap) throw new MaskLabInputException($"'grid' in {file} must map config keys to lists of values");
            foreach (var (k, v) in gridMap)
            {
                var key = CheckKey(k.ToString()!, file, "grid");
                IReadOnlyList<string> values = v switch
                {
                    List<object> list when list.Count > 0 => list.Select(x => Scalar(x, file, key)).ToArray(),
                    string s => [s],
                    _ => throw new MaskLabInputException($"grid key '{key}' in {file} needs a non-empty list of values"),
                };
                if (values.Distinct().Count() != values.Count) throw new MaskLabInputException($"grid key '{key}' in {file} lists a value twice");
                grid.Add(new(key, values));
            }
        }

        var runs = new List<IReadOnlyList<KeyValuePair<string, string>>>();
        if (root.GetValueOrDefault("runs") is { } r)
        {
            if (r is not List<object> runList) throw new MaskLabInputException($"'runs' in {file} must be a list of mappings of config keys");
            foreach (var entry in runList)
            {
                if (entry is not Dictionary<object, object?> m) throw new MaskLabInputException($"each entry of 'runs' in {file} must be a mapping of config keys");
                runs.Add(m.Select(kv => new KeyValuePair<string, string>(CheckKey(kv.Key.ToString()!, file, "runs"), Scalar(kv.Value, file, kv.Key.ToString()!))).ToArray());
            }
        }

        return new SweepSpec { Base = baseMap, Seeds = seeds, Grid = grid, Runs = runs };
    }

    static string CheckKey(string key, string file, string where)
    {
        if (key == "seed") throw new MaskLabInputException($"'seed' in '{where}' of {file}: list seeds under 'seeds' instead");
        if (!RunConfig.Keys.Contains(key))
            throw new MaskLabInputException($"unknown config key '{key}' in '{where}' of {file}; known: {string.Join(", ", RunConfig.Keys)}");
        return key;
    }

    static int ParseSeed(object? s, string file) =>
        s is string text && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
            ? seed
            : throw new MaskLabInputException($"seed '{s}' in {file} is not a whole number");

    static Dictionary<string, string?> Scalars(Dictionary<object, object?> map, string file, string where) =>
        Yaml.ScalarMap(map, $"'{where}' of {file}");

    /// <summary>A config value as text; a YAML list (age_cuts: [30, 58]) becomes the comma form config keys take.</summary>
    static string Scalar(object? value, string file, string key) => value switch
    {
        null => "",
        string s => s,
        List<object> list when list.All(x => x is string) => string.Join(",", list),
        _ => throw new MaskLabInputException($"value of '{key}' in {file} must be a single value"),
    };

    /// <summary>The sweep as it will run, every base key spelled out and the seeds explicit (DIR/sweep.yaml).</summary>
    public string ToYaml()
    {
        var doc = new Dictionary<string, object?>
        {
            ["base"] = Base.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value),
            ["seeds"] = Seeds.ToList(),
        };
        if (Grid.Count > 0) doc["grid"] = Grid.ToDictionary(kv => kv.Key, kv => kv.Value.ToList());
        if (Runs.Count > 0) doc["runs"] = Runs.Select(r => r.ToDictionary(kv => kv.Key, kv => kv.Value)).ToList();
        return new SerializerBuilder().WithQuotingNecessaryStrings().Build().Serialize(doc);
    }
}
