using System.Text.Json;
using MaskLab.Data.Loading;
using Spectre.Console;

namespace MaskLab.Cli;

/// <summary>Shared console conventions: one-line errors on stderr, JSON as the last line of stdout.</summary>
public static class Cli
{
    /// <summary>Exit code for bad arguments or bad input.</summary>
    public const int BadInput = 2;

    /// <summary>Longest error line printed: past it the middle is cut, so no input echoed into a message floods the terminal.</summary>
    public const int MaxErrorLength = 2000;

    public static int Fail(string message, int code = BadInput)
    {
        var line = Echo.Of(message.ReplaceLineEndings(" ").Trim(), int.MaxValue);
        if (line.Length > MaxErrorLength) line = $"{line[..(MaxErrorLength - 200)]} ...({line.Length - MaxErrorLength + 200:N0} characters cut)... {line[^150..]}";
        Console.Error.WriteLine($"masklab: error: {line}");
        return code;
    }

    /// <summary>The first line of a message (libtorch's carry its C++ stack after it), at most 300 characters.</summary>
    public static string FirstLine(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        var frames = line.IndexOf(" Exception raised from ", StringComparison.Ordinal);
        if (frames > 0) line = line[..frames];
        return Echo.Of(line, 300);
    }

    /// <summary>
    /// Spectre's "Failed to convert 'X' to Int32." names no option: find the option the value was given to and say what
    /// it takes.
    /// </summary>
    public static string NameTheOption(string message, IReadOnlyList<string> args)
    {
        var m = System.Text.RegularExpressions.Regex.Match(message, @"^Failed to convert '(?<value>.*)' to (?<type>\w+)\.?$", System.Text.RegularExpressions.RegexOptions.Singleline);
        if (!m.Success) return message;
        var value = m.Groups["value"].Value;
        var type = m.Groups["type"].Value;
        string? option = null;
        for (int i = 0; i < args.Count && option is null; i++)
        {
            if (i > 0 && args[i] == value && args[i - 1].StartsWith('-')) option = args[i - 1];
            else if (args[i].StartsWith('-') && args[i].EndsWith("=" + value, StringComparison.Ordinal)) option = args[i][..args[i].IndexOf('=')];
        }
        var wanted = type switch
        {
            "Int32" => $"a whole number from {int.MinValue} to {int.MaxValue}",
            "Int64" => "a whole number",
            "Double" or "Single" => "a number",
            "Boolean" => "true or false",
            _ => $"a {type}",
        };
        return $"{option ?? "an option"} '{Echo.Of(value)}' is not {wanted}";
    }

    /// <summary>Lists every unreadable photo on stderr, then fails with the exception's one line.</summary>
    public static int Fail(BadImagesException e)
    {
        foreach (var (path, reason) in e.Bad) Console.Error.WriteLine($"  bad image: {path}: {reason}");
        return Fail(e.Message);
    }

    static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes one JSON object as a single line on stdout (the contract's --json form).</summary>
    public static void WriteJsonLine(object value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>Escapes text for Spectre markup.</summary>
    public static string Esc(string s) => Markup.Escape(s);
}
