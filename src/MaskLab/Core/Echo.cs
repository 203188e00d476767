using System.Text;

namespace MaskLab.Core;

/// <summary>
/// A value from the user's input as an error message quotes it: at most <see cref="MaxLength"/> characters, control
/// characters and undecodable bytes shown as '?', so that a huge or binary value cannot flood the one line an error is.
/// </summary>
public static class Echo
{
    public const int MaxLength = 200;

    public static string Of(string? value, int max = MaxLength)
    {
        if (value is null) return "";
        var text = value.Length > max ? value[..max] : value;
        var clean = new StringBuilder(text.Length + 24);
        for (int i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) clean.Append(c).Append(text[++i]);
            else clean.Append(char.IsControl(c) || c == '\uFFFD' || char.IsSurrogate(c) ? '?' : c);
        }
        if (value.Length > max) clean.Append($"...({value.Length:N0} characters)");
        return clean.ToString();
    }
}
