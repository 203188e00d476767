using MaskLab.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Training;

/// <summary>One optimisation step on one batch: forward, loss, backward, update.</summary>
public sealed class TrainStep(nn.Module<Tensor, Tensor> model, OptimizerHelper optimizer, IOutputHead head)
{
    /// <summary>Puts the model in training mode (dropout, batch statistics) for the batches that follow.</summary>
    public void BeginEpoch() => model.train();

    /// <summary>Returns the batch's loss; a non-finite loss is returned without updating the weights.</summary>
    public float Run(Tensor images, Tensor target)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        var loss = head.Loss(model.call(images), target);
        float value = loss.to_type(ScalarType.Float32).item<float>();
        if (!float.IsFinite(value)) return value;
        loss.backward();
        optimizer.step();
        return value;
    }
}
