using MaskLab.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Training;

/// <summary>
/// Mixed-precision step, the CPU's counterpart of autocast: forward and backward run on a bfloat16 working copy
/// of the model, while the model the caller owns keeps fp32 master weights, the optimiser updates those (its
/// state stays fp32 too), and checkpoints, validation and inference read them unchanged. Normalisation layers
/// stay fp32 in the copy (libtorch accepts bf16 activations with fp32 affine weights and keeps the running
/// statistics in fp32), and the loss and its softmax are computed in fp32.
/// </summary>
/// <remarks>
/// bf16 keeps fp32's exponent range, so gradients do not underflow the way fp16 ones do and no loss scaling is
/// needed. Copying weights forward after each update costs one pass over the parameters, small next to the
/// convolutions.
/// </remarks>
public sealed class Bf16TrainStep : ITrainStep
{
    readonly nn.Module<Tensor, Tensor> master, work;
    readonly OptimizerHelper optimizer;
    readonly IOutputHead head;
    readonly (Tensor Master, Tensor Work)[] parameters;
    readonly (Tensor Master, Tensor Work)[] statistics;

    public Bf16TrainStep(nn.Module<Tensor, Tensor> master, Func<nn.Module<Tensor, Tensor>> replica,
        OptimizerHelper optimizer, IOutputHead head)
    {
        this.master = master;
        this.optimizer = optimizer;
        this.head = head;
        work = MixedPrecision.Bf16Copy(master, replica);
        parameters = MixedPrecision.Pair(master.named_parameters(), work.named_parameters());
        // Buffers that stayed fp32 in the copy (normalisation statistics, step counters) are the ones training
        // changes; they flow back so that validation sees the statistics of the batches trained on.
        statistics = MixedPrecision.Pair(master.named_buffers(), work.named_buffers())
            .Where(p => p.Master.dtype == p.Work.dtype).ToArray();
    }

    /// <summary>The bf16 working copy (for inference timing); its weights follow the master after each step.</summary>
    public nn.Module<Tensor, Tensor> Working => work;

    public nn.Module<Tensor, Tensor> Compute => work;

    bool fresh = true;

    public void BeginEpoch()
    {
        master.train();
        work.train();
        fresh = true;
    }

    public StepPhases? Phases { get; set; }

    /// <summary>
    /// Forward and backward on the bf16 copy; its gradients are added to the fp32 master gradients at once, so that
    /// summing several batches happens in fp32.
    /// </summary>
    public float Accumulate(Tensor images, Tensor target, double weight = 1)
    {
        float value;
        using (var scope = NewDisposeScope())
        {
            work.zero_grad();
            if (fresh)
            {
                optimizer.zero_grad();
                fresh = false;
            }
            Phases?.Mark("zero grad");
            var logits = work.call(images.to_type(ScalarType.BFloat16));
            Phases?.Mark("forward");
            var loss = head.Loss(logits.to_type(ScalarType.Float32), target);
            value = loss.item<float>();
            Phases?.Mark("loss");
            if (float.IsFinite(value))
            {
                (weight == 1 ? loss : loss * weight).backward();
                Phases?.Mark("backward");
                using (no_grad())
                {
                    foreach (var (m, w) in parameters)
                    {
                        if (w.grad is not { } g) continue;
                        if (m.grad is { } mg) mg.add_(g);
                        else m.grad = g.to_type(ScalarType.Float32);
                    }
                }
                Phases?.Mark("grads to fp32");
            }
        }
        Phases?.Mark("dispose");
        return value;
    }

    public void Update()
    {
        optimizer.step();
        fresh = true;
        Phases?.Mark("optimiser");
        using (no_grad())
        {
            foreach (var (m, w) in parameters) w.copy_(m);
            foreach (var (m, w) in statistics) m.copy_(w);
        }
        Phases?.Mark("weights to bf16");
    }

    public void Dispose() => work.Dispose();
}

/// <summary>Builds and pairs the bf16 working copy of an fp32 model.</summary>
public static class MixedPrecision
{
    /// <summary>
    /// A bf16 copy of <paramref name="master"/> built by <paramref name="replica"/>, with the master's weights and
    /// statistics and its normalisation layers in fp32. The global random state is left as it was, so a bf16 run
    /// draws the same shuffles and dropout masks as an fp32 run with the same seed.
    /// </summary>
    public static nn.Module<Tensor, Tensor> Bf16Copy(nn.Module<Tensor, Tensor> master, Func<nn.Module<Tensor, Tensor>> replica) =>
        LowPrecisionCopy(master, replica, ScalarType.BFloat16);

    /// <summary>
    /// A copy of <paramref name="master"/> in <paramref name="dtype"/> (bf16 or fp16) on the master's device, built by
    /// <paramref name="replica"/>, as <see cref="Bf16Copy"/> describes.
    /// </summary>
    public static nn.Module<Tensor, Tensor> LowPrecisionCopy(nn.Module<Tensor, Tensor> master, Func<nn.Module<Tensor, Tensor>> replica, ScalarType dtype)
    {
        var rng = torch.get_rng_state();
        nn.Module<Tensor, Tensor> work;
        try { work = replica(); }
        finally { torch.set_rng_state(rng); rng.Dispose(); }
        var device = master.parameters().FirstOrDefault()?.device;
        if (device is not null && device.type != DeviceType.CPU) work.to(device);
        using (no_grad())
        {
            var source = master.state_dict();
            foreach (var (name, tensor) in work.state_dict())
            {
                if (!source.TryGetValue(name, out var value))
                    throw new InvalidOperationException($"the working copy has '{name}', which the model lacks");
                tensor.copy_(value);
            }
        }
        work.to(dtype);
        foreach (var (_, module) in work.named_modules())
            if (IsNormalisation(module)) module.to(ScalarType.Float32);
        if (master.training) work.train(); else work.eval();
        return work;
    }

    static bool IsNormalisation(nn.Module module) =>
        module is BatchNorm1d or BatchNorm2d or BatchNorm3d or LayerNorm or GroupNorm or InstanceNorm1d or InstanceNorm2d;

    internal static (Tensor Master, Tensor Work)[] Pair(
        IEnumerable<(string Name, Parameter Value)> master, IEnumerable<(string Name, Parameter Value)> work) =>
        Pair(master.Select(p => (p.Name, (Tensor)p.Value)), work.Select(p => (p.Name, (Tensor)p.Value)));

    internal static (Tensor Master, Tensor Work)[] Pair(
        IEnumerable<(string Name, Tensor Value)> master, IEnumerable<(string Name, Tensor Value)> work)
    {
        var byName = master.ToDictionary(p => p.Name, p => p.Value);
        return work.Select(p => byName.TryGetValue(p.Name, out var m)
                ? (m, p.Value)
                : throw new InvalidOperationException($"the working copy has '{p.Name}', which the model lacks"))
            .ToArray();
    }
}
