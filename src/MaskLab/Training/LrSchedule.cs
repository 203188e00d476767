using MaskLab.Runs;

namespace MaskLab.Training;

/// <summary>
/// Learning rate as a pure function of training progress, so that a resumed run continues on exactly the
/// curve it left: linear warm-up, then cosine to zero, step decay, or constant.
/// </summary>
internal static class LrSchedule
{
    /// <param name="lr">The base learning rate (the optimiser's).</param>
    /// <param name="epoch">0-based epoch.</param>
    /// <param name="fraction">How far through the epoch, 0..1.</param>
    public static double At(ScheduleSpec s, double lr, int epoch, double fraction)
    {
        double t = epoch + fraction;
        if (s.WarmupEpochs > 0 && t < s.WarmupEpochs)
            return lr * Math.Max(t / s.WarmupEpochs, 0.01);
        return s.Kind switch
        {
            SchedulerKind.Cosine => CosineAfterWarmup(s, lr, t),
            SchedulerKind.Step => lr * Math.Pow(s.StepGamma, Math.Floor(t / s.StepSize)),
            SchedulerKind.None => lr,
            _ => throw new ArgumentOutOfRangeException(nameof(s), s.Kind, "unknown scheduler"),
        };
    }

    static double CosineAfterWarmup(ScheduleSpec s, double lr, double t)
    {
        double span = Math.Max(s.Epochs - s.WarmupEpochs, 1e-9);
        double p = Math.Clamp((t - s.WarmupEpochs) / span, 0, 1);
        return lr * 0.5 * (1 + Math.Cos(Math.PI * p));
    }
}
