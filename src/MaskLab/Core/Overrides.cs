namespace MaskLab.Core;

/// <summary>The <c>--set key=value</c> overrides of the command line, parsed once for every verb that takes them.</summary>
internal static class Overrides
{
    /// <summary>Splits each item at its first '='; keys and values are trimmed. A later item for the same key wins.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Parse(IEnumerable<string>? items)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var item in items ?? [])
        {
            var eq = item.IndexOf('=');
            if (eq <= 0) throw new MaskLabInputException($"--set '{Echo.Of(item)}' is not key=value");
            result.Add(new(item[..eq].Trim(), item[(eq + 1)..].Trim()));
        }
        return result;
    }

    /// <summary>Applies the overrides to a key / text map in order.</summary>
    public static void ApplyTo(IDictionary<string, string?> map, IEnumerable<string>? items)
    {
        foreach (var (k, v) in Parse(items)) map[k] = v;
    }
}
