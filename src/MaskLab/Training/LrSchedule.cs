namespace MaskLab.Training;

/// <summary>
/// Learning rate as a pure function of training progress, so that a resumed run continues on exactly the
/// curve it left: linear warm-up, then cosine to zero, step decay, or constant.
/// </summary>
public static class LrSchedule
{
    /// <param name="epoch">0-based epoch.</param>
    /// <param name="fraction">How far through the epoch, 0..1.</param>
    public static double At(TrainConfig c, int epoch, double fraction)
    {
        double t = epoch + fraction;
        if (c.WarmupEpochs > 0 && t < c.WarmupEpochs)
            return c.Lr * Math.Max(t / c.WarmupEpochs, 0.01);
        return c.Scheduler switch
        {
            "cosine" => CosineAfterWarmup(c, t),
            "step" => c.Lr * Math.Pow(c.StepGamma, Math.Floor(t / c.StepSize)),
            _ => c.Lr,
        };
    }

    static double CosineAfterWarmup(TrainConfig c, double t)
    {
        double span = Math.Max(c.Epochs - c.WarmupEpochs, 1e-9);
        double p = Math.Clamp((t - c.WarmupEpochs) / span, 0, 1);
        return c.Lr * 0.5 * (1 + Math.Cos(Math.PI * p));
    }
}
