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
    public static readonly string[] Names = ["single", "multi"];

    public static IOutputHead Create(int classes, LossFunction? loss = null) => new SingleHead(classes, loss);

    /// <summary>
    /// The head named by the config's <c>head</c> for data with <paramref name="classes"/> classes. With
    /// <paramref name="lossOptions"/> the configured loss is built (per attribute for the multi head); without,
    /// the head serves inference only.
    /// </summary>
    public static IOutputHead Create(Training.TrainConfig config, int classes, bool taskClasses, LossOptions? lossOptions = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        switch (config.Head)
        {
            case "single":
                return new SingleHead(classes, lossOptions is null ? null : LossRegistry.Create(config.Loss, lossOptions, config.LossAlpha));
            case "multi":
                if (!taskClasses || classes != Data.TaskClasses.Count)
                    throw new MaskLabInputException(
                        $"head 'multi' needs the 18 mask x gender x age task classes, but the data has {classes} other classes; use head: single");
                Func<int, LossFunction>? loss = lossOptions is null ? null
                    : n => LossRegistry.Create(config.Loss, lossOptions with { NumClasses = n, ClassWeights = null }, config.LossAlpha);
                return new MultiHead(loss, MultiHead.ParseWeights(config.HeadWeights));
            default:
                throw new MaskLabInputException($"head '{config.Head}' is not one of {string.Join(", ", Names)}");
        }
    }
}
