using static TorchSharp.torch;

namespace MaskLab.Losses;

/// <summary>Cross entropy with optional label smoothing (the task's definition, see SoftTargets.Smooth) and class weights, for hard or soft targets.</summary>
public static class CrossEntropy
{
    public static LossFunction Create(LossOptions o)
    {
        var weight = o.ClassWeights is { } w ? tensor(w) : null;
        return (logits, target) =>
        {
            using var scope = NewDisposeScope();
            var logp = nn.functional.log_softmax(logits.to_type(ScalarType.Float32), 1);
            var soft = SoftTargets.From(target, o.NumClasses, logp.device);
            if (o.Smoothing > 0) soft = SoftTargets.Smooth(soft, o.Smoothing, o.NumClasses);
            var perClass = -(soft * logp);
            Tensor loss;
            if (weight is null) loss = perClass.sum(1).mean();
            else
            {
                // weighted like torch's cross_entropy: sum(w_y * l) / sum(w_y), with soft targets spreading w_y.
                var w = weight.to(logp.device);
                var sampleWeight = (soft * w).sum(1);
                loss = (perClass * w).sum() / sampleWeight.sum();
            }
            return loss.MoveToOuterDisposeScope();
        };
    }
}

public static class SoftTargets
{
    /// <summary>The task's smoothing: 1 - s on the true class, s / (C - 1) spread over the others.</summary>
    public static Tensor Smooth(Tensor soft, double s, int numClasses) => soft * (1 - s) + (1 - soft) * (s / (numClasses - 1));

    /// <summary>Class indices become one-hot rows; soft rows pass through as float32.</summary>
    public static Tensor From(Tensor target, int numClasses, Device device) =>
        target.dim() == 1
            ? nn.functional.one_hot(target.to(device), numClasses).to_type(ScalarType.Float32)
            : target.to(device).to_type(ScalarType.Float32);
}
