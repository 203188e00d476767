namespace MaskLab.Losses;

/// <summary>A loss as a config names it: one registry loss or a mix of two, the mix weight and the settings of the losses.</summary>
public sealed record LossSpec(LossChoice Name, double Alpha = 0.5, double Smoothing = 0.0, double FocalGamma = 2.0)
{
    /// <summary>Plain cross entropy: the main job's loss.</summary>
    public static readonly LossSpec Default = new(LossChoice.CrossEntropy);

    /// <summary>The first bad value as a <see cref="MaskLabInputException"/> naming its key.</summary>
    public void Validate()
    {
        if (Name.Second is not null) LossRegistry.CheckAlpha(Alpha);
        if (Smoothing is < 0 or >= 1) throw MaskLabInputException.BadValue("smoothing", Smoothing);
    }

    /// <summary>The loss over <paramref name="classes"/> classes, weighted per class where <paramref name="classWeights"/> is given.</summary>
    public LossFunction Create(int classes, float[]? classWeights = null) =>
        LossRegistry.Create(Name, new LossOptions(classes, Smoothing, FocalGamma, classWeights), Alpha);
}
