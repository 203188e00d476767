using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace MaskLab.Core;

/// <summary>
/// The one YAML reader of the library: config files, sweep files and the config.yaml of run directories all come
/// through here, so a syntax error is reported the same way everywhere, with its line and column.
/// </summary>
public static class Yaml
{
    /// <summary>The document as YamlDotNet's untyped tree: mappings, lists and scalar strings (an empty file is an empty mapping).</summary>
    public static Dictionary<object, object?> ReadDocument(string text, string source)
    {
        try
        {
            return new DeserializerBuilder().Build().Deserialize<Dictionary<object, object?>>(text) ?? new();
        }
        catch (YamlException e)
        {
            throw new MaskLabInputException(Describe(e, source));
        }
    }

    /// <summary>Reads <paramref name="file"/> as a tree (<see cref="ReadDocument"/>); a missing file is an input error.</summary>
    public static Dictionary<object, object?> ReadFile(string file, string what = "file")
    {
        if (!File.Exists(file)) throw new MaskLabInputException($"{what} '{file}' does not exist");
        string text;
        try { text = File.ReadAllText(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MaskLabInputException($"cannot read {what} '{file}': {e.Message}");
        }
        return ReadDocument(text, file);
    }

    /// <summary>
    /// A mapping of scalars, key to text: a YAML list (age_cuts: [30, 58]) becomes the comma form config keys take.
    /// A nested mapping is an error unless <paramref name="loose"/> (reports read run folders written by other
    /// versions, and keep such a value as its text).
    /// </summary>
    public static Dictionary<string, string?> ScalarMap(IReadOnlyDictionary<object, object?> map, string source, bool loose = false)
    {
        var result = new Dictionary<string, string?>();
        foreach (var (k, v) in map)
        {
            var key = k.ToString()!;
            result[key] = v switch
            {
                null => null,
                string s => s,
                List<object> list when list.All(x => x is string) => string.Join(",", list),
                _ when loose => v.ToString(),
                _ => throw new MaskLabInputException($"config key '{key}' in {source} must be a single value"),
            };
        }
        return result;
    }

    /// <summary>One line for a YAML error: where it is and what the parser found, without YamlDotNet's wrapper text.</summary>
    static string Describe(YamlException e, string source)
    {
        var inner = e;
        while (inner.InnerException is YamlException deeper) inner = deeper;
        var problem = inner.InnerException?.Message ?? inner.Message;
        // YamlDotNet prefixes its messages with "(Line: 3, Col: 5, Idx: 20) - (Line: ...): "; the position is given below.
        var cut = problem.LastIndexOf("): ", StringComparison.Ordinal);
        if (problem.StartsWith("(Line:", StringComparison.Ordinal) && cut > 0) problem = problem[(cut + 3)..];
        return $"{source} is not valid YAML: line {inner.Start.Line}, column {inner.Start.Column}: {problem.ReplaceLineEndings(" ").Trim()}";
    }
}
