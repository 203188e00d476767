using MaskLab.Data.Layout;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Models;

/// <summary>
/// none; ordinal: an age output beside the class head that learns the person's age in years (<see cref="OrdinalAgeHead"/>);
/// auto: ordinal where the data is the task's people with their ages (the competition layout), none elsewhere (an
/// image folder has no ages).
/// </summary>
public enum AgeHeadKind { None, Ordinal, Auto }

/// <summary>
/// The ordinal age output: its loss weight beside the class loss, the age cuts its prediction is cut at (the
/// run's training age cuts, so that moving the upper cut to 58 moves where the ordinal output starts saying 60+), and
/// <paramref name="OverThreshold"/>: the P(age &gt;= upper cut) above which a photo is called the upper band.
/// </summary>
public sealed record AgeHeadSpec(AgeHeadKind Kind, double Weight, AgeCuts Cuts, double OverThreshold = AgeOrdinal.EvenThreshold)
{
    public static readonly AgeHeadSpec None = new(AgeHeadKind.None, 0, AgeCuts.Scoring);
}

/// <summary>
/// Ages in years as ordinal targets: one binary target "age &gt;= t" for every whole year t from
/// <see cref="MinAge"/> + 1 to <see cref="MaxAge"/>, the encoding of ordinal regression by binary tasks (Niu et al.,
/// CVPR 2016). The competition's ages run from 18 to 60; ages outside are clamped to that range.
/// </summary>
internal static class AgeOrdinal
{
    public const int MinAge = 18, MaxAge = 60;

    /// <summary>The threshold at which P(age &gt;= upper cut) is read as it comes: no shift.</summary>
    public const double EvenThreshold = 0.5;

    /// <summary>
    /// The logit shift that moves the upper band's decision threshold from 0.5 to <paramref name="threshold"/>:
    /// sigmoid(logit + shift) &gt; 0.5 exactly where sigmoid(logit) &gt; threshold.
    /// </summary>
    public static double UpperShift(double threshold) => Math.Log((1 - threshold) / threshold);

    /// <summary>Thresholds, and so logits, of the ordinal output: 42.</summary>
    public const int Thresholds = MaxAge - MinAge;

    /// <summary>The output index of the threshold "age &gt;= <paramref name="age"/>" (<paramref name="age"/> in 19..60).</summary>
    public static int IndexOf(int age) => age - MinAge - 1;

    public static float[] Targets(int age)
    {
        var t = new float[Thresholds];
        for (int i = 0; i < Thresholds; i++) t[i] = age >= MinAge + 1 + i ? 1f : 0f;
        return t;
    }

    /// <summary>The upper cut's logit moved by <see cref="UpperShift"/>; as it is at 0.5. The Scalar is held for the native call.</summary>
    static Tensor Shifted(Tensor upperLogit, double overThreshold)
    {
        if (overThreshold == EvenThreshold) return upperLogit;
        using var shift = UpperShift(overThreshold).ToScalar();
        return upperLogit.add(shift);
    }

    /// <summary>Whether both cuts have a threshold of their own (19..60).</summary>
    public static bool CanCut(AgeCuts cuts) => cuts.Lower > MinAge && cuts.Upper <= MaxAge;

    /// <summary>
    /// Age band probabilities [N, 3] of ordinal logits [N, 42] cut at <paramref name="cuts"/>:
    /// p(under) = 1 - P(age &gt;= lower), p(over) = P(age &gt;= upper), the middle band what lies between. The
    /// thresholds are learned apart, so P(age &gt;= upper) may exceed P(age &gt;= lower) a little: the middle band is
    /// clamped at 0 and the three renormalised. With an <paramref name="overThreshold"/> other than 0.5 the upper
    /// cut's logit is shifted by <see cref="UpperShift"/>, so that the upper band wins from that probability on: a rare
    /// band's F1 is best served by a threshold below 0.5 (about half the F1 it reaches; Lipton et al., 2014).
    /// </summary>
    public static Tensor BandProbabilities(Tensor ordinalLogits, AgeCuts cuts, double overThreshold = EvenThreshold)
    {
        using var scope = NewDisposeScope();
        var atLeastLower = ordinalLogits.narrow(1, IndexOf(cuts.Lower), 1).sigmoid();
        var atLeastUpper = Shifted(ordinalLogits.narrow(1, IndexOf(cuts.Upper), 1), overThreshold).sigmoid();
        var bands = cat([1 - atLeastLower, (atLeastLower - atLeastUpper).clamp_min(0), atLeastUpper], 1);
        return (bands / bands.sum(1, keepdim: true)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// A class head with an ordinal age output beside it: the backbone gives the inner head's logits, then
/// <see cref="AgeOrdinal.Thresholds"/> more. Training adds the binary cross entropy of the ordinal targets, made
/// from each person's age in years (what the 3 age classes throw away), weighted by <see cref="AgeHeadSpec.Weight"/>.
/// The 18 class probabilities keep the inner head's mask x gender distribution and take the age band from the
/// ordinal output: p(mask, gender, age) = p(mask, gender) p(age band).
/// </summary>
internal sealed class OrdinalAgeHead(IOutputHead inner, AgeHeadSpec spec) : IOutputHead
{
    public IOutputHead Inner => inner;

    public AgeHeadSpec Spec => spec;

    public int Outputs => inner.Outputs + AgeOrdinal.Thresholds;

    /// <summary>A photo without a person (a pseudo-labelled eval photo) has no age: its row is NaN, which the loss leaves out.</summary>
    public Func<Sample, float[]>? AuxTargets => sample => sample.Person is { } p
        ? AgeOrdinal.Targets(p.Age)
        : Enumerable.Repeat(float.NaN, AgeOrdinal.Thresholds).ToArray();

    /// <summary>The inner head's logits and the ordinal logits of [N, inner + 42] outputs.</summary>
    public (Tensor Inner, Tensor Ordinal) Split(Tensor logits) =>
        (logits.narrow(1, 0, inner.Outputs), logits.narrow(1, inner.Outputs, AgeOrdinal.Thresholds));

    public Tensor Loss(Tensor logits, Tensor target) => Loss(logits, target, null);

    public Tensor Loss(Tensor logits, Tensor target, Tensor? aux)
    {
        using var scope = NewDisposeScope();
        var (classes, ordinal) = Split(logits);
        var loss = inner.Loss(classes, target);
        if (aux is not null)
        {
            var known = aux.isnan().logical_not();
            var perTarget = nn.functional.binary_cross_entropy_with_logits(ordinal.to_type(ScalarType.Float32),
                aux.nan_to_num(0), reduction: nn.Reduction.None);
            var count = known.sum().clamp_min(1);
            loss = loss + spec.Weight * (perTarget * known).sum() / count;
        }
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>The expected age: the youngest age plus the sum of P(age &gt;= t) over the thresholds.</summary>
    public Tensor? Ages(Tensor logits)
    {
        using var scope = NewDisposeScope();
        var (_, ordinal) = Split(logits.to_type(ScalarType.Float32));
        return (ordinal.sigmoid().sum(1) + AgeOrdinal.MinAge).MoveToOuterDisposeScope();
    }

    public Tensor Probabilities(Tensor logits)
    {
        using var scope = NewDisposeScope();
        var (classes, ordinal) = Split(logits.to_type(ScalarType.Float32));
        var p = inner.Probabilities(classes).view(-1, MultiHead.MaskClasses * MultiHead.GenderClasses, MultiHead.AgeClasses);
        var maskGender = p.sum(2, keepdim: true);
        var age = AgeOrdinal.BandProbabilities(ordinal, spec.Cuts, spec.OverThreshold).unsqueeze(1);
        // Row-major [mask x gender, age] is mask * 6 + gender * 3 + age, the task's class code.
        return (maskGender * age).reshape(-1, TaskClasses.Count).MoveToOuterDisposeScope();
    }
}
