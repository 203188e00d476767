namespace MaskLab.Losses;

/// <summary>
/// The baseline's label smoothing loss, mean(sum(-t * log_softmax(x))) with t = 1 - s on the true class and
/// s / (C - 1) elsewhere, fixed to use the real class count. That is cross entropy on smoothed targets, so it is
/// one: smoothing 0 gives plain cross entropy, and class weights apply as they do there.
/// </summary>
internal static class LabelSmoothing
{
    public static LossFunction Create(LossOptions o) => CrossEntropy.Create(o);
}
