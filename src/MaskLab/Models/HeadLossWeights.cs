using System.Globalization;

namespace MaskLab.Models;

/// <summary>The multi head's loss weights for mask, gender and age: <c>head_weights: 1,1,1</c> in a config.</summary>
public readonly record struct HeadLossWeights(double Mask, double Gender, double Age)
{
    public static readonly HeadLossWeights Equal = new(1, 1, 1);

    /// <summary>Three non-negative numbers, not all 0, for mask, gender and age: "1, 2, 0.5".</summary>
    public static HeadLossWeights Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var items = text.Split(',', StringSplitOptions.TrimEntries);
        if (items.Length != 3)
            throw new MaskLabInputException($"head_weights '{text}' must be three numbers for mask, gender, age, e.g. 1,1,1");
        var w = new double[3];
        for (var i = 0; i < 3; i++)
        {
            if (!double.TryParse(items[i], NumberStyles.Float, CultureInfo.InvariantCulture, out w[i]) || !double.IsFinite(w[i]) || w[i] < 0)
                throw new MaskLabInputException($"head_weights '{text}': '{items[i]}' is not a non-negative number");
        }
        if (w.All(x => x == 0)) throw new MaskLabInputException($"head_weights '{text}' are all 0");
        return new(w[0], w[1], w[2]);
    }

    public double[] ToArray() => [Mask, Gender, Age];

    /// <summary>The text <see cref="Parse"/> reads back.</summary>
    public override string ToString() => string.Join(",", ToArray().Select(w => w.ToString("R", CultureInfo.InvariantCulture)));
}
