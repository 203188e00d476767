using static TorchSharp.torch;

namespace MaskLab.Losses;

/// <summary>
/// 1 - soft macro F1 over the batch, the task's definition: p = softmax(x), y the (soft) targets; per class
/// tp = sum(y p), fp = sum((1 - y) p), fn = sum(y (1 - p)); P = tp / (tp + fp + e), R = tp / (tp + fn + e),
/// F1 = 2PR / (P + R + e) clamped to [e, 1 - e]; loss = 1 - mean over classes of F1, e = 1e-7.
/// A class absent from the batch and never predicted sits at the clamp and adds no gradient.
/// </summary>
internal static class SoftF1
{
    public const double Epsilon = 1e-7;

    public static LossFunction Create(LossOptions o)
    {
        LossInputs.CheckClassCount(o.NumClasses);
        return (logits, target) =>
        {
            using var scope = NewDisposeScope();
            var p = nn.functional.softmax(LossInputs.Float32Logits(logits, o.NumClasses), 1);
            var y = SoftTargets.From(target, o.NumClasses, p.device);
            // dim: named, as a bare 0 binds to sum's dtype overload (ScalarType 0 is Byte).
            var tp = (y * p).sum(dim: 0);
            var fp = ((1 - y) * p).sum(dim: 0);
            var fn = (y * (1 - p)).sum(dim: 0);
            var precision = tp / (tp + fp + Epsilon);
            var recall = tp / (tp + fn + Epsilon);
            var f1 = (2 * precision * recall / (precision + recall + Epsilon)).clamp(Epsilon, 1 - Epsilon);
            return (1 - f1.mean()).MoveToOuterDisposeScope();
        };
    }
}
