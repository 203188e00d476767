using MaskLab.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Training;

/// <summary>
/// Mixed-precision step, the CPU's counterpart of autocast: forward and backward run on a bfloat16 working copy
/// of the model, while the model the caller owns keeps fp32 master weights, the optimiser updates those (its
/// state stays fp32 too), and checkpoints, validation and inference read them unchanged. Normalisation layers
/// stay fp32 in the copy (libtorch accepts bf16 activations with fp32 affine weights and keeps the running
/// statistics in fp32), and the loss and its softmax are computed in fp32.
/// </summary>
/// <remarks>
/// bf16 keeps fp32's exponent range, so gradients do not underflow the way fp16 ones do and no loss scaling is
/// needed. Copying weights forward after each update costs one pass over the parameters, small next to the
/// convolutions.
/// </remarks>
internal sealed class Bf16TrainStep : ITrainStep
{
    readonly WorkingCopy copy;
    readonly OptimizerHelper optimizer;
    readonly HeldGradients held;
    readonly IOutputHead head;

    public Bf16TrainStep(nn.Module<Tensor, Tensor> master, Func<nn.Module<Tensor, Tensor>> replica,
        OptimizerHelper optimizer, IOutputHead head)
    {
        this.optimizer = optimizer;
        this.head = head;
        held = new HeldGradients(optimizer);
        copy = new WorkingCopy(master, replica, ScalarType.BFloat16);
    }

    /// <summary>The bf16 working copy (for inference timing); its weights follow the master after each step.</summary>
    public nn.Module<Tensor, Tensor> Working => copy.Module;

    public nn.Module<Tensor, Tensor> Compute => copy.Module;

    public void BeginEpoch()
    {
        copy.Train();
        held.Release();
    }

    public StepPhases? Phases { get; set; }

    /// <summary>
    /// Forward and backward on the bf16 copy; its gradients are added to the fp32 master gradients at once, so that
    /// summing several batches happens in fp32.
    /// </summary>
    public float Accumulate(Tensor images, Tensor target, double weight = 1, Tensor? aux = null) =>
        copy.Accumulate(held, images, target, aux, head, weight, Phases);

    public void Update()
    {
        optimizer.step();
        held.Release();
        Phases?.Mark("optimiser");
        copy.CopyWeightsForward();
        copy.CopyStatisticsBack();
        Phases?.Mark("weights to bf16");
    }

    public void Dispose() => copy.Dispose();
}
