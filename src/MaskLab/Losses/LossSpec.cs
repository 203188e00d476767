namespace MaskLab.Losses;

/// <summary>A loss as a config names it: one registry loss or a mix of two, the mix weight and the settings of the losses.</summary>
public sealed record LossSpec(LossChoice Name, double Alpha = 0.5, double Smoothing = 0.0, double FocalGamma = 2.0)
{
    /// <summary>The loss over <paramref name="classes"/> classes, weighted per class where <paramref name="classWeights"/> is given.</summary>
    public LossFunction Create(int classes, float[]? classWeights = null) =>
        LossRegistry.Create(Name, new LossOptions(classes, Smoothing, FocalGamma, classWeights), Alpha);
}
