using static TorchSharp.torch;

namespace MaskLab.Losses;

/// <summary>
/// A loss over logits [N, C]. The target is either class indices (int64 [N]) or soft targets (float [N, C], rows
/// summing to 1, as CutMix / MixUp make). Returns a float32 scalar.
/// </summary>
public delegate Tensor LossFunction(Tensor logits, Tensor target);

/// <summary>
/// Settings losses read; the config supplies them. Smoothing: cross_entropy and label_smoothing. FocalGamma:
/// focal. ClassWeights (one per class, e.g. from <see cref="Losses.ClassWeights"/>): cross_entropy,
/// label_smoothing and focal; f1 is a macro average already.
/// </summary>
internal sealed record LossOptions(int NumClasses, double Smoothing = 0.0, double FocalGamma = 2.0, float[]? ClassWeights = null);

/// <summary>Makes losses by name. "a+b" with alpha mixes two: a * (1 - alpha) + b * alpha.</summary>
internal static class LossRegistry
{
    static readonly Dictionary<string, Func<LossOptions, LossFunction>> Entries = new(StringComparer.OrdinalIgnoreCase)
    {
        ["cross_entropy"] = CrossEntropy.Create,
        ["focal"] = Focal.Create,
        ["f1"] = SoftF1.Create,
        ["label_smoothing"] = LabelSmoothing.Create,
    };

    public static IReadOnlyList<string> Names => Entries.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>The registry's spelling of a loss name (names are matched without regard to case).</summary>
    public static string CanonicalName(string name) =>
        Entries.Keys.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new MaskLabInputException($"unknown loss '{Core.Echo.Of(name)}'; known: {string.Join(", ", Names)}");

    /// <summary>The mix weight of an "a+b" loss must be a fraction.</summary>
    internal static void CheckAlpha(double alpha)
    {
        if (!(alpha is >= 0 and <= 1)) throw new MaskLabInputException($"loss_alpha {alpha} must be within 0..1");
    }

    /// <summary>The loss a name or "a+b" mix names (see <see cref="LossChoice"/>).</summary>
    public static LossFunction Create(string name, LossOptions options, double alpha = 0.5) =>
        Create(LossChoice.Parse(name), options, alpha);

    public static LossFunction Create(LossChoice choice, LossOptions options, double alpha = 0.5)
    {
        ArgumentNullException.ThrowIfNull(choice);
        ArgumentNullException.ThrowIfNull(options);
        var first = Entries[choice.First](options);
        if (choice.Second is null) return first;
        var second = Entries[choice.Second](options);
        CheckAlpha(alpha);
        return (logits, target) =>
        {
            using var scope = NewDisposeScope();
            return (first(logits, target) * (1 - alpha) + second(logits, target) * alpha).MoveToOuterDisposeScope();
        };
    }
}
