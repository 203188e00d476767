namespace MaskLab.Losses;

/// <summary>
/// <c>class_weights</c> as read from a config: balanced (scikit-learn's weights from the training split's counts) or
/// one non-negative weight per class. A config without class weights (or <c>none</c>) holds null.
/// </summary>
public sealed class ClassWeighting : IEquatable<ClassWeighting>
{
    public static readonly ClassWeighting Balanced = new(null);

    readonly float[]? values;

    ClassWeighting(float[]? values) => this.values = values;

    /// <summary>The weights given, one per class; null for <see cref="Balanced"/>.</summary>
    public IReadOnlyList<float>? Values => values;

    /// <summary>balanced, none (null) or a comma list of non-negative numbers, not all 0; the class count is checked by <see cref="For"/>.</summary>
    public static ClassWeighting? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Trim().ToLowerInvariant() switch
        {
            "" or "none" => null,
            "balanced" => Balanced,
            _ => new(ClassWeights.Parse(text, text.Split(',').Length)),
        };
    }

    /// <summary>The weights of <paramref name="numClasses"/> classes; balanced ones from the training split's labels.</summary>
    public float[] For(IReadOnlyList<int> trainLabels, int numClasses) =>
        values is null ? ClassWeights.Balanced(trainLabels, numClasses)
        : values.Length == numClasses ? [.. values]
        : throw new MaskLabInputException($"class_weights '{this}' has {values.Length} values; there are {numClasses} classes");

    /// <summary>The text <see cref="Parse"/> reads back.</summary>
    public override string ToString() => values is null ? "balanced" : ClassWeights.Format(values);

    public bool Equals(ClassWeighting? other) => other is not null && ToString() == other.ToString();

    public override bool Equals(object? obj) => Equals(obj as ClassWeighting);

    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);
}
