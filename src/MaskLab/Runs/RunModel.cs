using MaskLab.Losses;
using MaskLab.Models;
using static TorchSharp.torch;

namespace MaskLab.Runs;

/// <summary>A run's network and output head, made from its config: what training and inference build alike.</summary>
internal static class RunModel
{
    /// <summary>
    /// The head the config names for data of <paramref name="classes"/> classes (with its loss where <paramref name="loss"/>
    /// is given; inference only without), and the registry's model with as many outputs as the head needs, at the
    /// config's input size, randomly initialised.
    /// </summary>
    public static (nn.Module<Tensor, Tensor> Model, IOutputHead Head) Create(RunConfig config, int classes, bool taskClasses,
        LossSpec? loss = null, float[]? classWeights = null)
    {
        var head = OutputHeads.Create(config.HeadSection, classes, taskClasses, loss, classWeights);
        var model = ModelRegistry.Create(config.Model, Spec(config, head));
        return (model, head);
    }

    /// <summary>What the registry builds for this config and head: outputs and input size.</summary>
    public static ModelSpec Spec(RunConfig config, IOutputHead head) => new(head.Outputs, config.ImageSize.Width, config.ImageSize.Height);
}
