using MaskLab.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Training;

/// <summary>
/// fp16 mixed precision with dynamic loss scaling, the counterpart of autocast plus GradScaler on a GPU: forward and
/// backward run on an fp16 working copy of the model (normalisation layers fp32), the loss is computed in fp32 and
/// scaled before the backward pass, the gradients are copied into the fp32 master weights and unscaled there, and
/// the optimiser steps on the masters unless a gradient overflowed, in which case the step is skipped and the scale
/// backs off (<see cref="DynamicLossScaler"/>). Checkpoints, validation and inference read the fp32 masters.
/// </summary>
/// <remarks>
/// fp16 has three more mantissa bits than bf16 but a maximum of 65504 and a smallest normal of 6e-5, so without
/// scaling small gradients flush to zero; that is the whole reason for the scaler. The loss value and the overflow
/// flag are read back together, so a step waits for the device once, as GradScaler's step does.
/// </remarks>
internal sealed class Fp16TrainStep : ITrainStep
{
    readonly WorkingCopy copy;
    readonly OptimizerHelper optimizer;
    readonly HeldGradients held;
    readonly IOutputHead head;

    public Fp16TrainStep(nn.Module<Tensor, Tensor> master, Func<nn.Module<Tensor, Tensor>> replica,
        OptimizerHelper optimizer, IOutputHead head, DynamicLossScaler? scaler = null)
    {
        this.optimizer = optimizer;
        this.head = head;
        held = new HeldGradients(optimizer);
        Scaler = scaler ?? new DynamicLossScaler();
        copy = new WorkingCopy(master, replica, ScalarType.Float16);
    }

    /// <summary>The scaler; a checkpoint saves its <see cref="DynamicLossScaler.State"/> to resume exactly.</summary>
    public DynamicLossScaler Scaler { get; }

    /// <summary>The fp16 working copy; its weights follow the master after each step taken.</summary>
    public nn.Module<Tensor, Tensor> Working => copy.Module;

    public nn.Module<Tensor, Tensor> Compute => copy.Module;

    /// <summary>Whether the last update applied the gradients (false after an overflow or a non-finite loss).</summary>
    public bool LastStepTaken { get; private set; }

    public StepPhases? Phases { get; set; }

    public void BeginEpoch()
    {
        copy.Train();
        held.Release();
    }

    /// <summary>
    /// Forward on the fp16 copy; the scaled gradients are added to the fp32 master gradients at once, so that summing
    /// several batches happens in fp32. Unscaling and the overflow check wait for <see cref="Update"/>, once per update.
    /// </summary>
    public float Accumulate(Tensor images, Tensor target, double weight = 1, Tensor? aux = null)
    {
        if (held.Fresh) LastStepTaken = false;
        return copy.Accumulate(held, images, target, aux, head, weight, Phases, Scaler.ScaleLoss);
    }

    /// <summary>Unscales the summed gradients; steps unless one overflowed; moves the scale either way.</summary>
    public void Update()
    {
        using (var scope = NewDisposeScope())
        {
            var grads = copy.MasterGrads.ToList();
            var overflowFlag = Scaler.Unscale(grads);
            bool overflow = overflowFlag.to_type(ScalarType.Float32).cpu().item<float>() != 0;
            Phases?.Mark("unscale");
            if (!overflow)
            {
                optimizer.step();
                Phases?.Mark("optimiser");
                copy.CopyWeightsForward();
                LastStepTaken = true;
            }
            Scaler.Update(overflow);
            // The forward pass updated the running statistics whether or not the step was taken, as in PyTorch.
            copy.CopyStatisticsBack();
            Phases?.Mark("weights to fp16");
        }
        held.Release();
    }

    public void Dispose() => copy.Dispose();
}
