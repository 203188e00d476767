using MaskLab.Data.Layout;
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

    /// <summary>
    /// Training loss of a head with an auxiliary output: <paramref name="aux"/> holds each image's rows of
    /// <see cref="AuxTargets"/> (mixed as the labels were). Without them only the class loss is counted.
    /// </summary>
    Tensor Loss(Tensor logits, Tensor target, Tensor? aux) => Loss(logits, target);

    /// <summary>Each photo's auxiliary targets (e.g. the ordinal age targets from the person's age), or null when the head has no auxiliary output.</summary>
    Func<Data.Layout.Sample, float[]>? AuxTargets => null;

    /// <summary>Class probabilities [N, classes] in float32.</summary>
    Tensor Probabilities(Tensor logits);

    /// <summary>Each photo's predicted age in years [N] in float32, where the head has an age output in years; else null.</summary>
    Tensor? Ages(Tensor logits) => null;
}

/// <summary>One softmax over all classes: the usual classifier.</summary>
internal sealed class SingleHead(int classes, LossFunction? loss = null) : IOutputHead
{
    public int Outputs => classes;

    public Tensor Loss(Tensor logits, Tensor target) =>
        (loss ?? throw new InvalidOperationException("this head was built for inference only"))(logits, target);

    public Tensor Probabilities(Tensor logits) => nn.functional.softmax(logits.to_type(ScalarType.Float32), 1);
}

public enum HeadKind { Single, Multi }

/// <summary>
/// The head a config asks for: one softmax, or mask / gender / age heads with their loss weights; either with an
/// ordinal age output beside it (<see cref="AgeHead"/>).
/// </summary>
public sealed record HeadSpec(HeadKind Kind, HeadLossWeights Weights)
{
    public static readonly HeadSpec Single = new(HeadKind.Single, HeadLossWeights.Equal);

    public AgeHeadSpec AgeHead { get; init; } = AgeHeadSpec.None;
}

/// <summary>Makes the head a config asks for.</summary>
internal static class OutputHeads
{
    public static IOutputHead Create(int classes, LossFunction? loss = null) => new SingleHead(classes, loss);

    /// <summary>
    /// The head <paramref name="spec"/> names for data with <paramref name="classes"/> classes. With
    /// <paramref name="loss"/> the loss is built (per attribute for the multi head, without class weights); without,
    /// the head serves inference only.
    /// </summary>
    public static IOutputHead Create(HeadSpec spec, int classes, bool taskClasses, LossSpec? loss = null, float[]? classWeights = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.AgeHead.Kind == AgeHeadKind.Ordinal || (spec.AgeHead.Kind == AgeHeadKind.Auto && taskClasses && classes == Data.Layout.TaskClasses.Count))
        {
            if (!taskClasses || classes != Data.Layout.TaskClasses.Count)
                throw new MaskLabInputException(
                    $"age_head 'ordinal' learns the people's ages in years: it needs the 18 task classes of the competition layout, but the data has {classes} other classes; use age_head: none");
            return new OrdinalAgeHead(Create(spec with { AgeHead = AgeHeadSpec.None }, classes, taskClasses, loss, classWeights),
                spec.AgeHead with { Kind = AgeHeadKind.Ordinal });
        }
        switch (spec.Kind)
        {
            case HeadKind.Single:
                return new SingleHead(classes, loss?.Create(classes, classWeights));
            case HeadKind.Multi:
                if (!taskClasses || classes != Data.Layout.TaskClasses.Count)
                    throw new MaskLabInputException(
                        $"head 'multi' needs the 18 mask x gender x age task classes, but the data has {classes} other classes; use head: single");
                Func<int, LossFunction>? attributeLoss = loss is null ? null : n => loss.Create(n);
                return new MultiHead(attributeLoss, spec.Weights.ToArray());
            default:
                throw new ArgumentOutOfRangeException(nameof(spec), spec.Kind, "unknown head kind");
        }
    }
}
