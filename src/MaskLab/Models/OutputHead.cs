using MaskLab.Losses;
using static TorchSharp.torch;

namespace MaskLab.Models;

/// <summary>
/// How a model's outputs become class probabilities and a loss. The model is built with <see cref="Outputs"/>
/// logits; everything downstream (metrics, prediction, ensembles) sees probabilities over the data's classes.
/// </summary>
public interface IOutputHead
{
    /// <summary>Number of logits the backbone must produce.</summary>
    int Outputs { get; }

    /// <summary>Training loss; the target is class indices [N] or soft targets [N, classes].</summary>
    Tensor Loss(Tensor logits, Tensor target);

    /// <summary>Class probabilities [N, classes] in float32.</summary>
    Tensor Probabilities(Tensor logits);
}

/// <summary>One softmax over all classes: the usual classifier.</summary>
public sealed class SingleHead(int classes, LossFunction? loss = null) : IOutputHead
{
    public int Outputs => classes;

    public Tensor Loss(Tensor logits, Tensor target) =>
        (loss ?? throw new InvalidOperationException("this head was built for inference only"))(logits, target);

    public Tensor Probabilities(Tensor logits) => nn.functional.softmax(logits.to_type(ScalarType.Float32), 1);
}

/// <summary>Makes the head a config asks for.</summary>
public static class OutputHeads
{
    public static IOutputHead Create(int classes, LossFunction? loss = null) => new SingleHead(classes, loss);
}
