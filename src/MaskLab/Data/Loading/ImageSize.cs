using System.Globalization;

namespace MaskLab.Data.Loading;

/// <summary>An image size written WxH (width x height), e.g. 96x128 for the task's portrait photos.</summary>
public readonly record struct ImageSize(int Width, int Height)
{
    /// <summary>The largest side accepted: far past any photo of the task, and a bound on what one image may allocate.</summary>
    public const int MaxSide = 8192;

    public static ImageSize Parse(string text)
    {
        var parts = text.ToLowerInvariant().Split('x', StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || !IsWhole(parts[0], out var w) || !IsWhole(parts[1], out var h) || w <= 0 || h <= 0)
            throw new MaskLabInputException($"image size '{text}' is not WxH with positive whole numbers, e.g. 96x128");
        if (w > MaxSide || h > MaxSide)
            throw new MaskLabInputException($"image size '{text}' is larger than {MaxSide}x{MaxSide}, the most MaskLab accepts per side");
        return new ImageSize((int)w, (int)h);
    }

    static bool IsWhole(string s, out long value)
    {
        value = 0;
        var digits = s.Length > 0 && s[0] is '-' or '+' ? s[1..] : s;
        if (digits.Length == 0 || !digits.All(char.IsAsciiDigit)) return false;
        // Past long's range is still a whole number, only far too large (or small).
        if (!long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
            value = s[0] == '-' ? long.MinValue : long.MaxValue;
        return true;
    }

    public override string ToString() => $"{Width}x{Height}";
}
