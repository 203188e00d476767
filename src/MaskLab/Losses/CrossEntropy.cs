using static TorchSharp.torch;

namespace MaskLab.Losses;

/// <summary>
/// Cross entropy, mean over samples of sum_c -t_c log_softmax(x)_c, for hard or soft targets, with optional
/// smoothing (the task's definition, <see cref="SoftTargets.Smooth"/>) and class weights (torch's weighted mean).
/// </summary>
internal static class CrossEntropy
{
    public static LossFunction Create(LossOptions o)
    {
        LossInputs.CheckClassCount(o.NumClasses);
        LossInputs.CheckClassWeights(o);
        if (!(o.Smoothing is >= 0 and < 1)) throw new MaskLabInputException($"smoothing {o.Smoothing} must be within [0, 1)");
        return (logits, target) =>
        {
            using var scope = NewDisposeScope();
            var logp = nn.functional.log_softmax(LossInputs.Float32Logits(logits, o.NumClasses), 1);
            var soft = SoftTargets.From(target, o.NumClasses, logp.device);
            if (o.Smoothing > 0) soft = SoftTargets.Smooth(soft, o.Smoothing, o.NumClasses);
            return LossInputs.Reduce(-(soft * logp), soft, o.ClassWeights).MoveToOuterDisposeScope();
        };
    }
}
