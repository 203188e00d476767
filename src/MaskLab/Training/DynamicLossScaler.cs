using MaskLab.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Training;

/// <summary>Settings of a <see cref="DynamicLossScaler"/>; the defaults are torch.cuda.amp.GradScaler's.</summary>
/// <param name="InitScale">The first scale, 2^16.</param>
/// <param name="GrowthFactor">Multiplies the scale after <paramref name="GrowthInterval"/> steps in a row without overflow.</param>
/// <param name="BackoffFactor">Multiplies the scale after a step whose gradients overflowed.</param>
/// <param name="GrowthInterval">Good steps in a row before the scale grows.</param>
internal sealed record LossScalerOptions(double InitScale = 65536, double GrowthFactor = 2, double BackoffFactor = 0.5, int GrowthInterval = 2000)
{
    public void Validate()
    {
        if (!(InitScale > 0) || double.IsInfinity(InitScale)) throw new ArgumentOutOfRangeException(nameof(InitScale), InitScale, "must be positive and finite");
        if (!(GrowthFactor > 1)) throw new ArgumentOutOfRangeException(nameof(GrowthFactor), GrowthFactor, "must be above 1");
        if (!(BackoffFactor > 0 && BackoffFactor < 1)) throw new ArgumentOutOfRangeException(nameof(BackoffFactor), BackoffFactor, "must be in (0, 1)");
        if (GrowthInterval < 1) throw new ArgumentOutOfRangeException(nameof(GrowthInterval), GrowthInterval, "must be at least 1");
    }
}

/// <summary>
/// Dynamic loss scaling for fp16 training, as torch.cuda.amp.GradScaler does it: the loss is multiplied by a scale
/// so that small gradients survive fp16's narrow range, the gradients are divided by it again before the update,
/// and a step whose gradients hold an inf or NaN is skipped and halves the scale; after a run of good steps the
/// scale doubles.
/// </summary>
/// <remarks>
/// <para>The scale lives on the host, so scaling and unscaling pass it as a scalar and never wait for the device.
/// TorchSharp 0.107 has no _amp_foreach_non_finite_check_and_unscale_; the check reduces each gradient times zero
/// (0 for a finite value, NaN for inf or NaN) into one device scalar, which is exact where a plain sum could
/// overflow, and costs one read on the host per step: the same single wait GradScaler.step has.</para>
/// <para>Scales are powers of two with the default factors, so unscaling multiplies by an exact reciprocal and
/// gives the gradients of the unscaled loss bit for bit, barring underflow in the low-precision backward.</para>
/// </remarks>
internal sealed class DynamicLossScaler
{
    readonly LossScalerOptions _options;

    public DynamicLossScaler(LossScalerOptions? options = null)
    {
        _options = options ?? new LossScalerOptions();
        _options.Validate();
        Scale = _options.InitScale;
    }

    public LossScalerOptions Options => _options;

    /// <summary>The factor the loss is multiplied by.</summary>
    public double Scale { get; private set; }

    /// <summary>Good steps since the scale last changed.</summary>
    public int GrowthTracker { get; private set; }

    /// <summary>Steps skipped for overflow since this scaler was made (not saved: a statistic for the log).</summary>
    public int SkippedSteps { get; private set; }

    public LossScalerState State => new(Scale, GrowthTracker);

    /// <summary>Continues from a saved state.</summary>
    public void Load(LossScalerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!(state.Scale > 0) || double.IsInfinity(state.Scale) || state.GrowthTracker < 0)
            throw new MaskLabInputException($"loss scaler state (scale {state.Scale}, growth tracker {state.GrowthTracker}) is not valid");
        Scale = state.Scale;
        GrowthTracker = state.GrowthTracker;
    }

    /// <summary>The loss times the scale: call backward on this.</summary>
    public Tensor ScaleLoss(Tensor loss) => loss.mul(Scale);

    /// <summary>
    /// Divides the gradients by the scale in place and returns a device scalar that is true when any of them holds
    /// an inf or NaN. No host wait.
    /// </summary>
    public Tensor Unscale(IReadOnlyList<Tensor> grads)
    {
        ArgumentNullException.ThrowIfNull(grads);
        if (grads.Count == 0) return tensor(false);
        using var scope = NewDisposeScope();
        double inverse = 1.0 / Scale;
        var checks = new Tensor[grads.Count];
        using (no_grad())
        {
            for (int i = 0; i < grads.Count; i++)
            {
                grads[i].mul_(inverse);
                checks[i] = grads[i].mul(0.0).sum(type: ScalarType.Float32);
            }
        }
        var found = (checks.Length == 1 ? checks[0] : stack(checks).sum()).isnan();
        return found.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Unscales <paramref name="grads"/>, runs <paramref name="optimizerStep"/> unless they overflowed, and updates
    /// the scale. Returns whether the step was taken. The one host wait of a step is here.
    /// </summary>
    public bool Step(IReadOnlyList<Tensor> grads, Action optimizerStep)
    {
        ArgumentNullException.ThrowIfNull(optimizerStep);
        bool overflow;
        using (var found = Unscale(grads)) overflow = found.item<bool>();
        if (!overflow) optimizerStep();
        Update(overflow);
        return !overflow;
    }

    /// <summary>Backs off after an overflow; grows after <see cref="LossScalerOptions.GrowthInterval"/> good steps in a row.</summary>
    public void Update(bool overflow)
    {
        if (overflow)
        {
            Scale *= _options.BackoffFactor;
            GrowthTracker = 0;
            SkippedSteps++;
            return;
        }
        if (++GrowthTracker >= _options.GrowthInterval)
        {
            var grown = Scale * _options.GrowthFactor;
            // GradScaler keeps the scale when growing would make it infinite.
            if (!double.IsInfinity((float)grown)) Scale = grown;
            GrowthTracker = 0;
        }
    }
}
