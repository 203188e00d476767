using MaskLab.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Training;

/// <summary>
/// A low-precision (bf16 or fp16) working copy of an fp32 model, paired with it tensor by tensor: what both
/// mixed-precision steps share. Gradients of the copy are summed into the fp32 masters, the masters' weights are
/// copied forward after an update, and the statistics training changed in the copy (normalisation buffers, which
/// stay fp32 there) flow back so that validation sees the batches trained on.
/// </summary>
internal sealed class WorkingCopy : IDisposable
{
    readonly nn.Module<Tensor, Tensor> master;
    readonly (Tensor Master, Tensor Work)[] parameters;
    readonly (Tensor Master, Tensor Work)[] statistics;

    public WorkingCopy(nn.Module<Tensor, Tensor> master, Func<nn.Module<Tensor, Tensor>> replica, ScalarType dtype)
    {
        this.master = master;
        Dtype = dtype;
        Module = MixedPrecision.LowPrecisionCopy(master, replica, dtype);
        parameters = MixedPrecision.Pair(master.named_parameters(), Module.named_parameters());
        statistics = MixedPrecision.Pair(master.named_buffers(), Module.named_buffers())
            .Where(p => p.Master.dtype == p.Work.dtype).ToArray();
    }

    /// <summary>The low-precision copy that forward and backward run on.</summary>
    public nn.Module<Tensor, Tensor> Module { get; }

    public ScalarType Dtype { get; }

    /// <summary>The masters' gradients, where they have one.</summary>
    public IEnumerable<Tensor> MasterGrads => parameters.Select(p => p.Master.grad).OfType<Tensor>();

    public void Train()
    {
        master.train();
        Module.train();
    }

    /// <summary>
    /// One batch of an update: the copy's gradients dropped (the masters hold the sum), the masters' zeroed where the
    /// batch starts an update, then <see cref="ForwardBackward"/>. Returns the batch's loss.
    /// </summary>
    public float Accumulate(HeldGradients held, Tensor images, Tensor target, Tensor? aux, IOutputHead head, double weight,
        StepPhases? phases, Func<Tensor, Tensor>? scale = null)
    {
        float value;
        using (var scope = NewDisposeScope())
        {
            Module.zero_grad();
            held.BeginBatch();
            phases?.Mark("zero grad");
            value = ForwardBackward(images, target, aux, head, weight, phases, scale);
        }
        phases?.Mark("dispose");
        return value;
    }

    /// <summary>
    /// Forward on the copy (the batch cast to <see cref="Dtype"/>), the loss in fp32, and, where it is finite, backward
    /// of <paramref name="weight"/> times the loss (through <paramref name="scale"/>, a loss scaler, where given); the
    /// copy's gradients are then added to the fp32 masters'. Returns the loss value.
    /// </summary>
    public float ForwardBackward(Tensor images, Tensor target, Tensor? aux, IOutputHead head, double weight, StepPhases? phases,
        Func<Tensor, Tensor>? scale = null)
    {
        var logits = Module.call(images.to_type(Dtype));
        phases?.Mark("forward");
        var loss = head.Loss(logits.to_type(ScalarType.Float32), target, aux);
        float value = loss.detach().to_type(ScalarType.Float32).cpu().item<float>();
        phases?.Mark("loss");
        if (!float.IsFinite(value)) return value;
        var weighted = weight == 1 ? loss : loss * weight;
        (scale is null ? weighted : scale(weighted)).backward();
        phases?.Mark("backward");
        AddGradsToMasters();
        phases?.Mark("grads to fp32");
        return value;
    }

    /// <summary>Adds the copy's gradients to the fp32 masters', so that summing several batches happens in fp32.</summary>
    void AddGradsToMasters()
    {
        // add_(g) would make its alpha of 1 as a temporary Scalar that nothing holds during the native call: the
        // finalizer thread may free it while libtorch reads it (seen as "Expected false to be true" from
        // Scalar::toFloat under the test suite's GC load). This one lives until the loop is done.
        using var one = 1.0.ToScalar();
        using (no_grad())
        {
            foreach (var (m, w) in parameters)
            {
                if (w.grad is not { } g) continue;
                if (m.grad is { } mg) mg.add_(g, one);
                else m.grad = g.to_type(ScalarType.Float32);
            }
        }
    }

    /// <summary>The masters' weights into the copy, after an optimiser step.</summary>
    public void CopyWeightsForward()
    {
        using (no_grad())
            foreach (var (m, w) in parameters) w.copy_(m);
    }

    /// <summary>The running statistics the copy's forward passes changed, back into the masters.</summary>
    public void CopyStatisticsBack()
    {
        using (no_grad())
            foreach (var (m, w) in statistics) m.copy_(w);
    }

    public void Dispose() => Module.Dispose();
}

/// <summary>Builds and pairs the bf16 working copy of an fp32 model.</summary>
internal static class MixedPrecision
{
    /// <summary>
    /// A copy of <paramref name="master"/> in <paramref name="dtype"/> (bf16 or fp16) on the master's device, built by
    /// <paramref name="replica"/>, with the master's weights and statistics and its normalisation layers in fp32. The
    /// global random state is left as it was, so a low-precision run draws the same shuffles and dropout masks as an
    /// fp32 run with the same seed.
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
