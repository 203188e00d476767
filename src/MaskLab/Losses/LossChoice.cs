namespace MaskLab.Losses;

/// <summary>
/// The <c>loss</c> of a config: one loss of <see cref="LossRegistry"/> by name, or a mix of two ("a+b", weighted by
/// <c>loss_alpha</c>: a * (1 - alpha) + b * alpha). Names are checked, and spelt as the registry does, when read.
/// </summary>
public sealed record LossChoice
{
    public static readonly LossChoice CrossEntropy = Parse("cross_entropy");

    LossChoice(string first, string? second)
    {
        First = first;
        Second = second;
    }

    public string First { get; }

    /// <summary>The loss mixed in with weight alpha; null for a single loss.</summary>
    public string? Second { get; }

    public static LossChoice Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('+', StringSplitOptions.TrimEntries);
        if (parts.Length > 2) throw new MaskLabInputException($"loss '{Core.Echo.Of(text)}' mixes more than two losses; use a+b");
        var names = parts.Select(LossRegistry.CanonicalName).ToArray();
        return new(names[0], names.Length == 2 ? names[1] : null);
    }

    /// <summary>The text <see cref="Parse"/> reads back: "focal" or "cross_entropy+f1".</summary>
    public override string ToString() => Second is null ? First : $"{First}+{Second}";
}
