using static TorchSharp.torch;

namespace MaskLab.Losses;

/// <summary>
/// Focal loss, the task's nll((1 - p)^gamma * log_softmax(x), y, weight); for soft targets
/// -sum_c t_c (1 - p_c)^gamma log p_c, weighted as cross entropy is. Gamma 0 is cross entropy.
/// </summary>
internal static class Focal
{
    /// <summary>
    /// Floor on 1 - p before the power: for gamma below 1 the power's derivative at 0 is infinite, and a
    /// saturated logit (p rounds to 1) would turn the gradient into 0 * inf = NaN. Values under it contribute
    /// nothing measurable to the loss.
    /// </summary>
    const float OneMinusPFloor = 1e-30f;

    public static LossFunction Create(LossOptions o)
    {
        LossInputs.CheckClassCount(o.NumClasses);
        LossInputs.CheckClassWeights(o);
        var gamma = o.FocalGamma;
        if (!(gamma >= 0 && double.IsFinite(gamma))) throw new MaskLabInputException($"focal_gamma {gamma} must be a finite number >= 0");
        return (logits, target) =>
        {
            using var scope = NewDisposeScope();
            var logp = nn.functional.log_softmax(LossInputs.Float32Logits(logits, o.NumClasses), 1);
            var soft = SoftTargets.From(target, o.NumClasses, logp.device);
            var terms = -(soft * logp);
            if (gamma != 0)
            {
                // -expm1(log p) is 1 - p without the cancellation of 1 - exp(log p) for confident classes.
                var oneMinusP = logp.expm1().neg().clamp_min(OneMinusPFloor);
                terms = terms * oneMinusP.pow(gamma);
            }
            return LossInputs.Reduce(terms, soft, o.ClassWeights).MoveToOuterDisposeScope();
        };
    }
}
