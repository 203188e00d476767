using MaskLab.Runs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Training;

/// <summary>Makes the optimiser a config names.</summary>
internal static class Optimizers
{
    /// <summary>
    /// An optimiser over parameter groups, each at its own fraction of the base learning rate (fine-tuning: the
    /// backbone slower than the new head). One group at the full rate is the plain optimiser.
    /// </summary>
    public static OptimizerHelper Create(IReadOnlyList<(IEnumerable<Parameter> Parameters, double LrScale)> groups, OptimizerSpec o)
    {
        if (groups.Count == 1 && groups[0].LrScale == 1.0) return Create(groups[0].Parameters, o);
        return o.Kind switch
        {
            OptimizerKind.Sgd => optim.SGD(groups.Select(g => new SGD.ParamGroup(g.Parameters, new SGD.Options { LearningRate = o.Lr * g.LrScale })),
                o.Lr, momentum: o.Momentum, weight_decay: o.WeightDecay),
            OptimizerKind.Adam => optim.Adam(groups.Select(g => new Adam.ParamGroup(g.Parameters, new Adam.Options { LearningRate = o.Lr * g.LrScale })),
                o.Lr, weight_decay: o.WeightDecay),
            OptimizerKind.AdamW => optim.AdamW(groups.Select(g => new AdamW.ParamGroup(g.Parameters, new AdamW.Options { LearningRate = o.Lr * g.LrScale })),
                o.Lr, weight_decay: o.WeightDecay),
            _ => throw new ArgumentOutOfRangeException(nameof(o), o.Kind, "unknown optimizer"),
        };
    }

    public static OptimizerHelper Create(IEnumerable<Parameter> parameters, OptimizerSpec o) => o.Kind switch
    {
        OptimizerKind.Sgd => optim.SGD(parameters, o.Lr, momentum: o.Momentum, weight_decay: o.WeightDecay),
        OptimizerKind.Adam => optim.Adam(parameters, o.Lr, weight_decay: o.WeightDecay),
        OptimizerKind.AdamW => optim.AdamW(parameters, o.Lr, weight_decay: o.WeightDecay),
        _ => throw new ArgumentOutOfRangeException(nameof(o), o.Kind, "unknown optimizer"),
    };
}
