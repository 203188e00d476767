using MaskLab.Models;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Export;

/// <summary>How far ONNX Runtime's outputs are from TorchSharp's on the same images.</summary>
/// <param name="MaxProbabilityDiff">Largest absolute difference of a class probability.</param>
/// <param name="MaxLogitDiff">Largest absolute difference of a logit.</param>
/// <param name="MaxAbsLogit">Largest absolute logit TorchSharp gave, to read <paramref name="MaxLogitDiff"/> against.</param>
/// <param name="Images">Images compared.</param>
public sealed record OnnxCheck(double MaxProbabilityDiff, double MaxLogitDiff, double MaxAbsLogit, int Images);

/// <summary>Runs an exported model in ONNX Runtime beside the TorchSharp model it came from.</summary>
internal static class OnnxRuntimeCheck
{
    public static OnnxCheck Compare(string onnxFile, nn.Module<Tensor, Tensor> model, ExportSpec spec, Tensor images)
    {
        ArgumentException.ThrowIfNullOrEmpty(onnxFile);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(images);
        spec.Validate();
        long[] expected = [images.shape[0], spec.Channels, spec.Height, spec.Width];
        if (images.dim() != 4 || images.shape[0] < 1 || !images.shape.SequenceEqual(expected))
            throw new MaskLabInputException(
                $"images [{string.Join(", ", images.shape)}] do not fit the export's input [N, {spec.Channels}, {spec.Height}, {spec.Width}]");
        if (!File.Exists(onnxFile)) throw new MaskLabInputException($"ONNX model '{onnxFile}' does not exist");

        var (ortLogits, ortProbabilities) = RunOnnx(onnxFile, images);
        var (logits, probabilities) = RunTorch(model, spec, images);
        return new OnnxCheck(
            MaxAbsDiff(ortProbabilities, probabilities),
            MaxAbsDiff(ortLogits, logits),
            logits.Length == 0 ? 0 : logits.Max(v => Math.Abs((double)v)),
            (int)images.shape[0]);
    }

    public static float[] Probabilities(string onnxFile, Tensor images)
    {
        if (!File.Exists(onnxFile)) throw new MaskLabInputException($"ONNX model '{onnxFile}' does not exist");
        return RunOnnx(onnxFile, images).Probabilities;
    }

    static (float[] Logits, float[] Probabilities) RunOnnx(string onnxFile, Tensor images)
    {
        float[] data;
        using (var scope = NewDisposeScope())
            data = images.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        try
        {
            // A check on a few images: one thread, so it neither spins nor competes with libtorch's threads.
            using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
            using var session = new InferenceSession(onnxFile, options);
            using var input = OrtValue.CreateTensorValueFromMemory(data, images.shape);
            using var run = new RunOptions();
            using var outputs = session.Run(run, [OnnxExport.InputName], [input], [OnnxExport.LogitsName, OnnxExport.ProbabilitiesName]);
            return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[1].GetTensorDataAsSpan<float>().ToArray());
        }
        catch (OnnxRuntimeException e)
        {
            var reason = e.Message.Split('\n', 2)[0].Trim();
            throw new MaskLabInputException($"ONNX Runtime cannot run '{onnxFile}': {reason}");
        }
    }

    static (float[] Logits, float[] Probabilities) RunTorch(nn.Module<Tensor, Tensor> model, ExportSpec spec, Tensor images)
    {
        model.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var p = model.parameters().FirstOrDefault();
        var x = images.to(p?.device ?? CPU).to_type(ScalarType.Float32);
        if (spec.Input is { } input) x = input.Apply(x);
        else if (spec.NormalizationInGraph)
        {
            var n = spec.Normalization;
            var mean = tensor(new[] { n.MeanR, n.MeanG, n.MeanB }, device: x.device).view(1, 3, 1, 1);
            var std = tensor(new[] { n.StdR, n.StdG, n.StdB }, device: x.device).view(1, 3, 1, 1);
            x = (x - mean) / std;
        }
        var logits = model.call(x.to_type(p?.dtype ?? ScalarType.Float32)).to_type(ScalarType.Float32);
        IOutputHead head = spec.Head == ExportHead.Multi ? new MultiHead() : new SingleHead(spec.NumClasses);
        if (spec.OrdinalAge is { } cuts) head = new OrdinalAgeHead(head, new AgeHeadSpec(AgeHeadKind.Ordinal, 1, cuts, spec.AgeOverThreshold));
        var probabilities = head.Probabilities(logits);
        return (Flat(logits), Flat(probabilities));

        static float[] Flat(Tensor t) => t.detach().cpu().contiguous().data<float>().ToArray();
    }

    static double MaxAbsDiff(float[] a, float[] b)
    {
        if (a.Length != b.Length)
            throw new InvalidOperationException($"ONNX Runtime gave {a.Length} values, TorchSharp {b.Length}");
        var max = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            var d = Math.Abs((double)a[i] - b[i]);
            if (double.IsNaN(d)) return double.NaN;
            if (d > max) max = d;
        }
        return max;
    }
}
