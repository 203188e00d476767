using MaskLab.Data.Layout;
using MaskLab.Losses;
using static TorchSharp.torch;

namespace MaskLab.Models;

/// <summary>
/// Three classifiers on the same features, mask (3), gender (2) and age (3): the backbone's 8 logits are split
/// in that order. The loss is the configured loss on each attribute's targets, summed with weights; the 18 task
/// class probabilities are the product p(mask) p(gender) p(age), so metrics, prediction and ensembles see an
/// ordinary 18-class distribution.
/// </summary>
internal sealed class MultiHead : IOutputHead
{
    public const int MaskClasses = 3, GenderClasses = 2, AgeClasses = 3;

    readonly LossFunction? maskLoss, genderLoss, ageLoss;
    readonly double[] weights;

    /// <param name="loss">Makes the loss for an attribute with the given class count; null builds an inference-only head.</param>
    /// <param name="weights">Loss weights for mask, gender, age.</param>
    public MultiHead(Func<int, LossFunction>? loss = null, IReadOnlyList<double>? weights = null)
    {
        this.weights = weights?.ToArray() ?? [1, 1, 1];
        if (this.weights.Length != 3) throw new ArgumentException("three weights: mask, gender, age", nameof(weights));
        if (loss is not null)
        {
            maskLoss = loss(MaskClasses);
            genderLoss = loss(GenderClasses);
            ageLoss = loss(AgeClasses);
        }
    }

    public int Outputs => MaskClasses + GenderClasses + AgeClasses;

    public IReadOnlyList<double> Weights => weights;

    /// <summary>The mask, gender and age logits of [N, 8] outputs.</summary>
    public static (Tensor Mask, Tensor Gender, Tensor Age) Split(Tensor logits) =>
        (logits.narrow(1, 0, MaskClasses), logits.narrow(1, MaskClasses, GenderClasses),
            logits.narrow(1, MaskClasses + GenderClasses, AgeClasses));

    public Tensor Loss(Tensor logits, Tensor target)
    {
        if (maskLoss is null || genderLoss is null || ageLoss is null)
            throw new InvalidOperationException("this head was built for inference only");
        using var scope = NewDisposeScope();
        var (m, g, a) = Split(logits);
        var (tm, tg, ta) = AttributeTargets(target);
        var total = maskLoss(m, tm) * weights[0] + genderLoss(g, tg) * weights[1] + ageLoss(a, ta) * weights[2];
        return total.MoveToOuterDisposeScope();
    }

    public Tensor Probabilities(Tensor logits)
    {
        using var scope = NewDisposeScope();
        var (m, g, a) = Split(logits.to_type(ScalarType.Float32));
        var pm = nn.functional.softmax(m, 1).view(-1, MaskClasses, 1, 1);
        var pg = nn.functional.softmax(g, 1).view(-1, 1, GenderClasses, 1);
        var pa = nn.functional.softmax(a, 1).view(-1, 1, 1, AgeClasses);
        // Row-major flattening of [mask, gender, age] gives mask * 6 + gender * 3 + age, the task's class code.
        return (pm * pg * pa).reshape(-1, TaskClasses.Count).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Per-attribute targets of 18-class targets: class indices [N] map to attribute indices; soft targets
    /// [N, 18] sum to the attribute's marginal distribution.
    /// </summary>
    public static (Tensor Mask, Tensor Gender, Tensor Age) AttributeTargets(Tensor target)
    {
        if (target.dim() == 1)
        {
            var t = target.to_type(ScalarType.Int64);
            return (t.div(6, rounding_mode: RoundingMode.floor),
                t.div(3, rounding_mode: RoundingMode.floor).remainder(2),
                t.remainder(3));
        }
        if (target.dim() != 2 || target.shape[1] != TaskClasses.Count)
            throw new ArgumentException($"soft targets must be [N, {TaskClasses.Count}], got [{string.Join(", ", target.shape)}]", nameof(target));
        var cube = target.view(-1, MaskClasses, GenderClasses, AgeClasses);
        return (cube.sum([2, 3]), cube.sum([1, 3]), cube.sum([1, 2]));
    }
}
