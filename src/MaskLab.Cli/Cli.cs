using System.Text.Json;
using MaskLab.Data;
using Spectre.Console;

namespace MaskLab.Cli;

/// <summary>Shared console conventions: one-line errors on stderr, JSON as the last line of stdout.</summary>
public static class Cli
{
    /// <summary>Exit code for bad arguments or bad input.</summary>
    public const int BadInput = 2;

    public static int Fail(string message, int code = BadInput)
    {
        var line = message.ReplaceLineEndings(" ").Trim();
        Console.Error.WriteLine($"masklab: error: {line}");
        return code;
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
