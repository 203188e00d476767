using System.Globalization;

namespace MaskLab.Losses;

/// <summary>Per-class loss weights for cross entropy and focal (LossOptions.ClassWeights).</summary>
internal static class ClassWeights
{
    /// <summary>
    /// scikit-learn's 'balanced' weights from the training split's labels: n_samples / (n_classes * count_c),
    /// so every class carries the same total weight. A class with no training samples gets 1, the unweighted
    /// value: it cannot appear among training targets, and weight 0 would let a validation batch made only of
    /// such samples divide 0 by 0.
    /// </summary>
    public static float[] Balanced(IReadOnlyList<int> trainLabels, int numClasses)
    {
        ArgumentNullException.ThrowIfNull(trainLabels);
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        var counts = new long[numClasses];
        foreach (var label in trainLabels)
        {
            if (label < 0 || label >= numClasses)
                throw new MaskLabInputException($"label {label} is outside the {numClasses} classes (0..{numClasses - 1})");
            counts[label]++;
        }
        var n = (double)trainLabels.Count;
        return counts.Select(c => c == 0 ? 1f : (float)(n / (numClasses * (double)c))).ToArray();
    }

    /// <summary>A comma-separated list of one non-negative number per class, e.g. "1, 2.5, 0.8".</summary>
    public static float[] Parse(string text, int numClasses)
    {
        ArgumentNullException.ThrowIfNull(text);
        var items = text.Split(',', StringSplitOptions.TrimEntries);
        if (items.Length != numClasses)
            throw new MaskLabInputException($"class_weights '{text}' has {items.Length} values; there are {numClasses} classes");
        var weights = new float[numClasses];
        for (var i = 0; i < items.Length; i++)
        {
            if (!float.TryParse(items[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var w) || !float.IsFinite(w))
                throw new MaskLabInputException($"class_weights '{text}': '{items[i]}' is not a number");
            if (w < 0) throw new MaskLabInputException($"class_weights '{text}': {items[i]} is negative");
            weights[i] = w;
        }
        if (weights.All(w => w == 0)) throw new MaskLabInputException($"class_weights '{text}' are all 0");
        return weights;
    }

    /// <summary>The list as Parse reads it back.</summary>
    public static string Format(IEnumerable<float> weights) =>
        string.Join(",", weights.Select(w => w.ToString("R", CultureInfo.InvariantCulture)));
}
