using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Models;

/// <summary>
/// A model that says which of its parameters are the (pretrainable) backbone and which the task head, so that
/// fine-tuning can give them different learning rates or freeze the backbone for a while.
/// </summary>
internal interface IBackboneSplit
{
    IEnumerable<Parameter> BackboneParameters();

    IEnumerable<Parameter> HeadParameters();
}

/// <summary>A model's parameters in two disjoint groups that together hold all of them, in registration order.</summary>
internal sealed record ParameterSplit(IReadOnlyList<Parameter> Backbone, IReadOnlyList<Parameter> Head);

/// <summary>Splits any registry model into backbone and head.</summary>
internal static class BackboneSplit
{
    /// <summary>
    /// The model's own split where it implements <see cref="IBackboneSplit"/>; otherwise the head is the classifier
    /// that <see cref="ModelParts.FindClassifier"/> finds (the last Linear with <paramref name="outputs"/> outputs,
    /// i.e. what a checkpoint with another class count leaves fresh) and the backbone is everything else. A model
    /// with no such Linear is a <see cref="MaskLabInputException"/>.
    /// </summary>
    /// <param name="outputs">The model's output width: the class count, or the summed widths of a multi-head model.</param>
    public static ParameterSplit Of(nn.Module model, int outputs)
    {
        if (model is IBackboneSplit split)
            return new ParameterSplit(split.BackboneParameters().ToList(), split.HeadParameters().ToList());
        var classifier = ModelParts.FindClassifier(model, outputs)
            ?? throw new MaskLabInputException(
                $"model '{model.GetName()}' has no Linear layer with {outputs} outputs to treat as its head");
        var prefix = classifier.Path + ".";
        var backbone = new List<Parameter>();
        var head = new List<Parameter>();
        foreach (var (name, parameter) in model.named_parameters())
            (name.StartsWith(prefix, StringComparison.Ordinal) ? head : backbone).Add(parameter);
        return new ParameterSplit(backbone, head);
    }

    /// <summary>
    /// The BatchNorm layers outside the head, whose running statistics fine-tuning may want to freeze (by putting
    /// them in eval mode while the rest trains).
    /// </summary>
    public static IReadOnlyList<nn.Module> BackboneNormLayers(nn.Module model, int outputs)
    {
        var head = Of(model, outputs).Head.Select(p => p.Handle).ToHashSet();
        return model.named_modules()
            .Select(m => m.module)
            .Where(m => m is BatchNorm1d or BatchNorm2d or BatchNorm3d)
            .Where(m => !m.parameters().Any(p => head.Contains(p.Handle)))
            .ToList();
    }
}
