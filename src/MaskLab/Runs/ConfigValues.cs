using System.Globalization;
using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Losses;
using MaskLab.Models;
using MaskLab.Platform;

namespace MaskLab.Runs;

/// <summary>Text to typed config values and back: numbers, switches, enums (lower-case names), sizes and age cuts.</summary>
public static class ConfigValues
{
    public static object? Parse(string? text, Type type, string key)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if (text is null or "" or "null" or "~")
        {
            if (underlying is not null || !type.IsValueType) return null;
            throw new MaskLabInputException($"{key} needs a value");
        }
        var t = underlying ?? type;
        if (t.IsEnum) return ParseEnum(text, t, key);
        // A number that may be left to the data (epochs): auto is no number.
        if (underlying == typeof(int) && text.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase)) return null;
        try
        {
            if (t == typeof(string)) return text;
            if (t == typeof(int)) return int.Parse(text, CultureInfo.InvariantCulture);
            // 1e309 parses as infinity, .nan as NaN: no key means either.
            if (t == typeof(double)) return double.Parse(text, CultureInfo.InvariantCulture) is var d && double.IsFinite(d) ? d : throw new FormatException();
            if (t == typeof(bool)) return text.ToLowerInvariant() switch
            {
                "true" or "yes" or "on" or "1" => true,
                "false" or "no" or "off" or "0" => false,
                _ => throw new FormatException(),
            };
            if (t == typeof(ImageSize)) return ImageSize.Parse(text);
            if (t == typeof(AgeCuts)) return AgeCuts.Parse(text);
            if (t == typeof(DeviceChoice)) return DeviceChoice.Parse(text);
            if (t == typeof(LossChoice)) return LossChoice.Parse(text);
            if (t == typeof(ClassWeighting)) return ClassWeighting.Parse(text);
            if (t == typeof(HeadLossWeights)) return HeadLossWeights.Parse(text);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new MaskLabInputException(t == typeof(AgeCuts) ? Echo.Of(e.Message, 300) : $"{key} '{Echo.Of(text)}' is not a valid {FriendlyType(t)}");
        }
        throw new InvalidOperationException($"config type {t} not handled");
    }

    public static string? Format(object? value) => value switch
    {
        null => null,
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        Enum e => EnumText(e),
        var v => Convert.ToString(v, CultureInfo.InvariantCulture),
    };

    /// <summary>The config spelling of an enum value: its name in lower case (AdamW is adamw).</summary>
    public static string EnumText(Enum value) => value.ToString().ToLowerInvariant();

    /// <summary>The spellings a config accepts for an enum type.</summary>
    public static IReadOnlyList<string> EnumTexts(Type enumType) =>
        Enum.GetValues(enumType).Cast<Enum>().Select(EnumText).ToArray();

    static object ParseEnum(string text, Type t, string key)
    {
        foreach (Enum value in Enum.GetValues(t))
            if (string.Equals(EnumText(value), text.Trim(), StringComparison.OrdinalIgnoreCase)) return value;
        throw new MaskLabInputException($"{key} '{Echo.Of(text)}' is not one of {string.Join(", ", EnumTexts(t))}");
    }

    static string FriendlyType(Type t) => t == typeof(int) ? "whole number" : t == typeof(double) ? "number" : t == typeof(bool) ? "true/false" : t.Name;
}
