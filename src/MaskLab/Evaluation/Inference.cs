using MaskLab.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Evaluation;

/// <summary>Class probabilities of a model over a loader's batches, in sample order.</summary>
public static class Inference
{
    /// <summary>
    /// Runs the model in eval mode without gradients. Returns probabilities [rows = loader indices order, C] and
    /// the mean loss when <paramref name="loss"/> is given. With <paramref name="flipTta"/> the horizontally
    /// flipped view is averaged in (faces are near-symmetric, so the flip is a label-preserving second look).
    /// </summary>
    public static (float[,] Probabilities, double MeanLoss) Run(
        nn.Module<Tensor, Tensor> model, BatchLoader loader, int rows, int classes,
        Func<Tensor, Tensor, Tensor>? loss = null, bool flipTta = false, Action<int>? onBatch = null,
        CancellationToken ct = default)
    {
        model.eval();
        var probs = new float[rows, classes];
        double lossSum = 0;
        int seen = 0, row = 0, batches = 0;
        using var _ = no_grad();
        foreach (var batch in loader.Epoch(0))
        {
            ct.ThrowIfCancellationRequested();
            using var batchScope = NewDisposeScope();
            using (batch)
            {
                var logits = model.call(batch.Images).to_type(ScalarType.Float32);
                if (loss is not null) lossSum += loss(logits, batch.Labels).item<float>() * batch.Labels.shape[0];
                var p = nn.functional.softmax(logits, 1);
                if (flipTta)
                {
                    var flipped = model.call(batch.Images.flip(3)).to_type(ScalarType.Float32);
                    p = (p + nn.functional.softmax(flipped, 1)) / 2;
                }
                var values = p.contiguous().data<float>().ToArray();
                int n = (int)p.shape[0];
                for (int i = 0; i < n; i++)
                    for (int c = 0; c < classes; c++)
                        probs[row + i, c] = values[i * classes + c];
                row += n;
                seen += n;
            }
            onBatch?.Invoke(++batches);
        }
        return (probs, seen > 0 ? lossSum / seen : double.NaN);
    }
}
