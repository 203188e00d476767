using static TorchSharp.torch;

namespace MaskLab.Losses;

/// <summary>Every loss works on soft targets [N, C]; hard labels become one-hot rows first.</summary>
internal static class SoftTargets
{
    /// <summary>
    /// The task's smoothing, t' = t (1 - s) + (1 - t) s / (C - 1): 1 - s on the true class and s / (C - 1) on
    /// each other one. C is the real class count (the baseline hard-coded 3 with 18 logits, so its rows did not
    /// sum to 1); rows that summed to 1 still do.
    /// </summary>
    public static Tensor Smooth(Tensor soft, double s, int numClasses) => soft * (1 - s) + (1 - soft) * (s / (numClasses - 1));

    /// <summary>Class indices become one-hot rows; soft rows pass through as float32.</summary>
    public static Tensor From(Tensor target, int numClasses, Device device) =>
        target.dim() == 1
            ? nn.functional.one_hot(target.to(device).to_type(ScalarType.Int64), numClasses).to_type(ScalarType.Float32)
            : target.to(device).to_type(ScalarType.Float32);
}

/// <summary>Input handling the losses share.</summary>
static class LossInputs
{
    /// <summary>
    /// Losses compute in float32 whatever the model ran in: bf16 log-probabilities and sums over a batch lose
    /// too many digits. The cast stays on the autograd graph, so gradients reach bf16 logits.
    /// </summary>
    public static Tensor Float32Logits(Tensor logits, int numClasses)
    {
        if (logits.dim() != 2 || logits.shape[1] != numClasses)
            throw new ArgumentException($"logits of shape [{string.Join(", ", logits.shape)}] do not match [N, {numClasses}]");
        return logits.to_type(ScalarType.Float32);
    }

    /// <summary>
    /// Mean over samples of the per-sample sums of <paramref name="terms"/> (t_c * l_c). With class weights it is
    /// torch's weighted mean, sum(w_y l) / sum(w_y), spread linearly over soft targets: a sample weighs
    /// sum_c t_c w_c, and a CutMix row counts as the weighted mix of its two hard rows.
    /// </summary>
    public static Tensor Reduce(Tensor terms, Tensor soft, float[]? classWeights)
    {
        if (classWeights is null) return terms.sum(1).mean();
        var w = tensor(classWeights, device: terms.device);
        return (terms * w).sum() / (soft * w).sum();
    }

    public static void CheckClassCount(int numClasses)
    {
        if (numClasses < 2) throw new MaskLabInputException($"losses need at least 2 classes; got {numClasses}");
    }

    public static void CheckClassWeights(LossOptions o)
    {
        if (o.ClassWeights is not { } w) return;
        if (w.Length != o.NumClasses)
            throw new MaskLabInputException($"class_weights has {w.Length} values ({ClassWeights.Format(w)}); there are {o.NumClasses} classes");
        if (w.Any(v => !float.IsFinite(v) || v < 0) || w.All(v => v == 0))
            throw new MaskLabInputException($"class_weights ({ClassWeights.Format(w)}) must be finite, non-negative and not all 0");
    }
}
