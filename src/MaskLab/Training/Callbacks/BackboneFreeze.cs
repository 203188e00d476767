using MaskLab.Models;
using MaskLab.Runs;

namespace MaskLab.Training;

/// <summary>
/// Fine-tuning's schedule, on the module that computes (the bf16 copy under mixed precision) once it is in training
/// mode: a frozen backbone computes no gradients (only the head trains) for the first freeze_epochs, and with
/// freeze_bn its BatchNorm layers keep their running statistics.
/// </summary>
internal sealed class BackboneFreeze(FineTuneSpec fineTune, int outputs) : ITrainerCallback
{
    public void OnEpochStart(TrainingSession session, int epoch)
    {
        var compute = session.Step.Compute;
        if (fineTune.Splits)
        {
            bool frozen = fineTune.BackboneFrozen(epoch);
            foreach (var p in BackboneSplit.Of(compute, outputs).Backbone) p.requires_grad = !frozen;
        }
        if (fineTune.FreezeBn)
            foreach (var bn in BackboneSplit.BackboneNormLayers(compute, outputs)) bn.eval();
    }
}
