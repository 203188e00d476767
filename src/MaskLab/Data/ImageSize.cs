using System.Globalization;

namespace MaskLab.Data;

/// <summary>A picture size written as <c>WxH</c> (width first, as the task states 384 x 512).</summary>
public readonly record struct ImageSize(int Width, int Height)
{
    /// <summary>Parses "384x512"; throws <see cref="MaskLabInputException"/> naming the value.</summary>
    public static ImageSize Parse(string text)
    {
        var parts = (text ?? "").Split('x', 'X');
        if (parts.Length == 2
            && int.TryParse(parts[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var w)
            && int.TryParse(parts[1].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var h)
            && w > 0 && h > 0)
            return new ImageSize(w, h);
        throw new MaskLabInputException($"size '{text}' is not WIDTHxHEIGHT with positive whole numbers, e.g. 384x512");
    }

    public override string ToString() => $"{Width}x{Height}";
}
