using MaskLab.Models;
using MaskLab.Runs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Training;

/// <summary>One optimisation step on one batch; the numeric precision of the step is its own concern.</summary>
public interface ITrainStep : IDisposable
{
    /// <summary>Puts the model in training mode (dropout, batch statistics) for the batches that follow.</summary>
    void BeginEpoch();

    /// <summary>The module that runs forward and backward: the model itself, or its low-precision working copy.</summary>
    nn.Module<Tensor, Tensor> Compute { get; }

    /// <summary>Returns the batch's loss; a non-finite loss is returned without updating the weights.</summary>
    float Run(Tensor images, Tensor target);

    /// <summary>When set, each step charges its phases to it (for `masklab bench --profile`).</summary>
    StepPhases? Phases { get; set; }
}

/// <summary>Chooses the step for a precision setting.</summary>
public static class TrainSteps
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

/// <summary>One fp32 optimisation step: forward, loss, backward, update.</summary>
public sealed class TrainStep(nn.Module<Tensor, Tensor> model, OptimizerHelper optimizer, IOutputHead head) : ITrainStep
{
    public StepPhases? Phases { get; set; }

    public void BeginEpoch() => model.train();

    public nn.Module<Tensor, Tensor> Compute => model;

    public float Run(Tensor images, Tensor target)
    {
        Phases?.Begin();
        float value;
        using (var scope = NewDisposeScope())
        {
            optimizer.zero_grad();
            Phases?.Mark("zero grad");
            var logits = model.call(images);
            Phases?.Mark("forward");
            var loss = head.Loss(logits, target);
            value = loss.to_type(ScalarType.Float32).item<float>();
            Phases?.Mark("loss");
            if (float.IsFinite(value))
            {
                loss.backward();
                Phases?.Mark("backward");
                optimizer.step();
                Phases?.Mark("optimiser");
            }
        }
        Phases?.Mark("dispose");
        Phases?.End();
        return value;
    }

    public void Dispose() { }
}
