using MaskLab.Models;
using MaskLab.Runs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Training;

/// <summary>
/// Optimisation on batches, split in two so that gradients can be accumulated: <see cref="Accumulate"/> runs forward
/// and backward on one batch and adds its gradients, weighted, to those held; <see cref="Update"/> applies them with
/// the optimiser. <see cref="TrainStepExtensions.Run"/> is one ordinary step (both, weight 1). The numeric precision
/// (and, later, the device) of the step is the implementation's own concern.
/// </summary>
internal interface ITrainStep : IDisposable
{
    /// <summary>Puts the model in training mode (dropout, batch statistics) for the batches that follow; held gradients are dropped.</summary>
    void BeginEpoch();

    /// <summary>The module that runs forward and backward: the model itself, or its low-precision working copy.</summary>
    nn.Module<Tensor, Tensor> Compute { get; }

    /// <summary>
    /// Forward and backward on one batch: the gradients of <paramref name="weight"/> x its loss are added to those
    /// held since the last <see cref="Update"/>. Returns the batch's (unweighted) loss; a non-finite loss adds nothing.
    /// </summary>
    /// <param name="weight">The batch's share of the update: 1 for an ordinary step; for k equal batches summed into
    /// one update, 1 / k, which makes the update that of one batch k times the size (mean losses).</param>
    /// <param name="aux">The batch's auxiliary targets for a head with an auxiliary output (<see cref="IOutputHead.AuxTargets"/>).</param>
    float Accumulate(Tensor images, Tensor target, double weight = 1, Tensor? aux = null);

    /// <summary>Applies the held gradients with the optimiser; the next <see cref="Accumulate"/> starts from none.</summary>
    void Update();

    /// <summary>When set, each step charges its phases to it (for `masklab bench --profile`).</summary>
    StepPhases? Phases { get; set; }
}

internal static class TrainStepExtensions
{
    /// <summary>One ordinary step: forward, loss, backward and update on one batch. Returns the loss; a non-finite loss updates nothing.</summary>
    public static float Run(this ITrainStep step, Tensor images, Tensor target)
    {
        step.Phases?.Begin();
        float value = step.Accumulate(images, target);
        if (float.IsFinite(value)) step.Update();
        step.Phases?.End();
        return value;
    }
}

/// <summary>Chooses the step for a precision setting.</summary>
internal static class TrainSteps
{
    /// <summary>
    /// <paramref name="replica"/> builds a fresh model of the same architecture (any weights); mixed precision
    /// uses it as the low-precision working copy, fp32 never calls it.
    /// </summary>
    public static ITrainStep Create(Precision precision, nn.Module<Tensor, Tensor> model,
        Func<nn.Module<Tensor, Tensor>> replica, OptimizerHelper optimizer, IOutputHead head) => precision switch
    {
        Precision.Fp32 => new TrainStep(model, optimizer, head),
        Precision.Bf16 => new Bf16TrainStep(model, replica, optimizer, head),
        Precision.Fp16 => new Fp16TrainStep(model, replica, optimizer, head),
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "no train step for this precision"),
    };
}

/// <summary>The fp32 step: forward, loss, backward into the parameters' gradients, optimiser update.</summary>
internal sealed class TrainStep(nn.Module<Tensor, Tensor> model, OptimizerHelper optimizer, IOutputHead head) : ITrainStep
{
    readonly HeldGradients held = new(optimizer);

    public StepPhases? Phases { get; set; }

    public void BeginEpoch()
    {
        model.train();
        held.Release();
    }

    public nn.Module<Tensor, Tensor> Compute => model;

    public float Accumulate(Tensor images, Tensor target, double weight = 1, Tensor? aux = null)
    {
        float value;
        using (var scope = NewDisposeScope())
        {
            held.BeginBatch();
            Phases?.Mark("zero grad");
            var logits = model.call(images);
            Phases?.Mark("forward");
            var loss = head.Loss(logits, target, aux);
            value = loss.to_type(ScalarType.Float32).item<float>();
            Phases?.Mark("loss");
            if (float.IsFinite(value))
            {
                (weight == 1 ? loss : loss * weight).backward();
                Phases?.Mark("backward");
            }
        }
        Phases?.Mark("dispose");
        return value;
    }

    public void Update()
    {
        optimizer.step();
        held.Release();
        Phases?.Mark("optimiser");
    }

    public void Dispose() { }
}

/// <summary>
/// The gradients an update sums: zeroed before the first batch after an update or an epoch's start, then added to by
/// each batch until the next update (gradient accumulation).
/// </summary>
internal sealed class HeldGradients(OptimizerHelper optimizer)
{
    bool fresh = true;

    /// <summary>Whether the next batch starts an update.</summary>
    public bool Fresh => fresh;

    /// <summary>Before a batch's backward pass: zeroes the gradients where the batch starts an update.</summary>
    public void BeginBatch()
    {
        if (!fresh) return;
        optimizer.zero_grad();
        fresh = false;
    }

    /// <summary>After an update, or at an epoch's start: the next batch starts from no gradients.</summary>
    public void Release() => fresh = true;
}
