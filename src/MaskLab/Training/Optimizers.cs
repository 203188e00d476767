using MaskLab.Runs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Training;

/// <summary>Makes the optimiser a config names.</summary>
public static class Optimizers
{
    public static OptimizerHelper Create(IEnumerable<Parameter> parameters, OptimizerSpec o) => o.Kind switch
    {
        OptimizerKind.Sgd => optim.SGD(parameters, o.Lr, momentum: o.Momentum, weight_decay: o.WeightDecay),
        OptimizerKind.Adam => optim.Adam(parameters, o.Lr, weight_decay: o.WeightDecay),
        OptimizerKind.AdamW => optim.AdamW(parameters, o.Lr, weight_decay: o.WeightDecay),
        _ => throw new ArgumentOutOfRangeException(nameof(o), o.Kind, "unknown optimizer"),
    };
}
