using MaskLab.Data.Layout;
using MaskLab.Data.Loading;

namespace MaskLab.Export;

/// <summary>How the model's logits become the exported probabilities (the output heads of <c>Models/OutputHead.cs</c>).</summary>
public enum ExportHead
{
    /// <summary>One softmax over <see cref="ExportSpec.NumClasses"/> logits.</summary>
    Single,

    /// <summary>Mask (3), gender (2) and age (3) logits whose softmaxes multiply into the 18 task classes.</summary>
    Multi,
}

/// <summary>
/// What the exported graph takes and gives: the input size and channels the model was trained at, the class count,
/// the output head, and the normalisation its inputs had in training.
/// </summary>
/// <param name="Width">Input width in pixels (the <c>W</c> of <c>image_size WxH</c>).</param>
/// <param name="Height">Input height in pixels.</param>
/// <param name="NumClasses">Classes of the probabilities output (18 for the task; the multi head needs 18).</param>
public sealed record ExportSpec(int Width, int Height, int NumClasses)
{
    /// <summary>The ONNX operator set the graph is written for; 17 is the newest that most runtimes (TensorRT, OpenVINO, onnxruntime-web) all read.</summary>
    public const int Opset = 17;

    /// <summary>The ONNX IR version that goes with <see cref="Opset"/>.</summary>
    public const int IrVersion = 8;

    public int Channels { get; init; } = 3;

    public ExportHead Head { get; init; } = ExportHead.Single;

    /// <summary>Per-channel mean and standard deviation of pixels in 0..1 that the model was trained on.</summary>
    public ImageNormalization Normalization { get; init; } = ImageNormalization.Task;

    /// <summary>
    /// The input normalisation of pretrained weights (e.g. a per-pixel mean image on a 0..255 scale); when set it
    /// replaces <see cref="Normalization"/>, in the graph and in the metadata.
    /// </summary>
    public InputNormalization? Input { get; init; }

    /// <summary>
    /// True (the default): the graph's first two nodes subtract the mean and divide by the standard deviation, so
    /// its input is RGB in 0..1, what any image library gives after a resize and a division by 255. The task's
    /// statistics are the one part of the preprocessing a user cannot guess, and a model fed unnormalised pixels
    /// still answers, only wrongly; baked in, they cannot be forgotten. They are in the metadata either way.
    /// False: the caller normalises and the graph starts at the model's first layer.
    /// </summary>
    public bool NormalizationInGraph { get; init; } = true;

    /// <summary>Optional class names, in class-index order, written to the metadata.</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>
    /// The age cuts of an ordinal age output beside the head (<c>age_head: ordinal</c>), whose 42 logits follow the
    /// head's and give the age band; null without one.
    /// </summary>
    public AgeCuts? OrdinalAge { get; init; }

    /// <summary>The ordinal age output's upper-band threshold (<see cref="Models.AgeHeadSpec.OverThreshold"/>).</summary>
    public double AgeOverThreshold { get; init; } = Models.AgeOrdinal.EvenThreshold;

    /// <summary>Logits of the class head: the class count, or mask + gender + age for the multi head.</summary>
    public int ClassLogits => Head == ExportHead.Multi
        ? Models.MultiHead.MaskClasses + Models.MultiHead.GenderClasses + Models.MultiHead.AgeClasses
        : NumClasses;

    /// <summary>Logits the model must produce: the class head's, then the ordinal age output's where there is one.</summary>
    public int Logits => ClassLogits + (OrdinalAge is null ? 0 : Models.AgeOrdinal.Thresholds);

    internal void Validate()
    {
        if (Width <= 0 || Height <= 0)
            throw new MaskLabInputException($"export input size {Width}x{Height} must be positive on both sides");
        if (Channels <= 0)
            throw new MaskLabInputException($"export channel count {Channels} must be positive");
        if (NumClasses < 2)
            throw new MaskLabInputException($"export class count {NumClasses} must be at least 2");
        if (Head == ExportHead.Multi && NumClasses != TaskClasses.Count)
            throw new MaskLabInputException(
                $"the multi head gives the {TaskClasses.Count} mask x gender x age classes, but the export asks for {NumClasses}");
        if (OrdinalAge is { } cuts && (NumClasses != TaskClasses.Count || !Models.AgeOrdinal.CanCut(cuts)))
            throw new MaskLabInputException($"the ordinal age output gives the age band of the {TaskClasses.Count} task classes, cut at 19..60 (asked: {NumClasses} classes, cuts {cuts})");
        if (NormalizationInGraph && Channels != 3)
            throw new MaskLabInputException(
                $"normalisation in the graph takes 3 channels (RGB), the export has {Channels}; normalise outside the graph");
        var n = Normalization;
        if (Input is not null && !NormalizationInGraph)
            throw new MaskLabInputException($"the input normalisation '{Input.Name}' is exported in the graph only");
        foreach (var s in new[] { n.StdR, n.StdG, n.StdB })
            if (!(s > 0) || !float.IsFinite(s))
                throw new MaskLabInputException($"normalisation standard deviation {s} must be a positive number");
        if (ClassNames is not null && ClassNames.Count != NumClasses)
            throw new MaskLabInputException($"{ClassNames.Count} class names for {NumClasses} classes");
    }
}
