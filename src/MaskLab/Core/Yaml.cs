using YamlDotNet.Core;
using YamlDotNet.Core.Events;
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
        object? document;
        try
        {
            document = new DeserializerBuilder().Build().Deserialize<object?>(text);
        }
        catch (YamlException e)
        {
            throw new MaskLabInputException(Describe(e, source));
        }
        catch (InsufficientExecutionStackException)
        {
            throw new MaskLabInputException($"{source} is not valid YAML: it nests lists or mappings too deep");
        }
        RefuseDuplicateKeys(text, source);
        return document switch
        {
            null => new(),
            Dictionary<object, object?> map => map,
            List<object> => throw new MaskLabInputException($"{source} holds a list; expected a mapping of keys (key: value lines)"),
            _ => throw new MaskLabInputException($"{source} holds the single value '{Echo.Of(document.ToString())}'; expected a mapping of keys (key: value lines)"),
        };
    }

    /// <summary>
    /// Throws where a mapping names one key twice: YAML forbids it, and the parser would silently keep the second
    /// (<c>epochs: 1</c> then <c>epochs: 2</c> trains for 2). The message names the key and both lines.
    /// </summary>
    static void RefuseDuplicateKeys(string text, string source)
    {
        var parser = new Parser(new StringReader(text));
        // One frame per open mapping or sequence: a mapping's keys seen so far (with their lines) and whether a key comes next.
        var stack = new Stack<(Dictionary<string, long>? Keys, bool KeyNext)>();
        void Node(ParsingEvent e)
        {
            if (stack.Count == 0) return;
            var (keys, keyNext) = stack.Pop();
            if (keys is not null && keyNext && e is Scalar key)
            {
                if (keys.TryGetValue(key.Value, out var first))
                    throw new MaskLabInputException(
                        $"{source} names the key '{Echo.Of(key.Value)}' twice (lines {first} and {key.Start.Line}): keep one");
                keys[key.Value] = key.Start.Line;
            }
            stack.Push((keys, keys is not null && !keyNext));
        }
        try
        {
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case MappingStart m: Node(m); stack.Push((new Dictionary<string, long>(StringComparer.Ordinal), true)); break;
                    case SequenceStart q: Node(q); stack.Push((null, false)); break;
                    case MappingEnd or SequenceEnd: stack.Pop(); break;
                    case Scalar or AnchorAlias: Node(parser.Current!); break;
                }
            }
        }
        catch (YamlException) { } // the document parsed once already; nothing more to say here
    }

    /// <summary>Reads <paramref name="file"/> as a tree (<see cref="ReadDocument"/>); a missing file is an input error.</summary>
    public static Dictionary<object, object?> ReadFile(string file, string what = "file") =>
        ReadDocument(InputFile.ReadAllText(file, what, InputFile.MaxConfigBytes), file);

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
                _ => throw new MaskLabInputException($"config key '{Echo.Of(key)}' in {source} must be a single value"),
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
