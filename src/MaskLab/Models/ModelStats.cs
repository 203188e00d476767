using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Models;

/// <summary>Size and cost of a model: parameter count and forward multiply-accumulates.</summary>
public static class ModelStats
{
    public static long Parameters(nn.Module model) => ModelParts.CountParameters(model);

    /// <summary>
    /// Multiply-accumulates (MACs) of one forward pass of one image of <paramref name="width"/> x
    /// <paramref name="height"/>: every Conv2d and Linear, plus the attention products of transformer blocks.
    /// Normalisation, activations, pooling and additions are not counted, as in most model tables
    /// (1 MAC = 2 FLOPs). Measured by running the forward once with hooks, so it follows whatever path the input
    /// size takes (e.g. adaptive pooling, interpolated position embeddings).
    /// </summary>
    public static long ForwardMacs(nn.Module<Tensor, Tensor> model, int width, int height)
    {
        long macs = 0;
        var removers = new List<Action>();
        foreach (var (_, module) in model.named_modules())
        {
            if (module is not nn.Module<Tensor, Tensor> m) continue;
            Func<Tensor, Tensor, long>? count = module switch
            {
                // Each output element of a convolution is one dot product over (in / groups) x kh x kw weights.
                Conv2d conv => (_, output) => output.numel() * (conv.weight.numel() / conv.weight.shape[0]),
                Linear linear => (_, output) => output.numel() * linear.in_features,
                IExtraMacs extra => (input, _) => extra.ExtraMacs(input),
                _ => null,
            };
            if (count is null) continue;
            var handle = m.register_forward_hook((_, input, output) =>
            {
                macs += count(input, output);
                return null!;
            });
            removers.Add(handle.remove);
        }

        var wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var device = model.parameters().FirstOrDefault()?.device ?? CPU;
            // Two images, not one: libtorch retries NNPACK (and logs its failure on this CPU) for every
            // convolution of a batch of one. Every count above is linear in the batch.
            model.call(zeros([2, 3, height, width], device: device));
        }
        finally
        {
            foreach (var remove in removers) remove();
            if (wasTraining) model.train();
        }
        return macs / 2;
    }
}
