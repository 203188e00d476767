using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Export;

/// <summary>Converters for TorchSharp's own layers, and the node patterns that composite converters share.</summary>
internal static class LayerConverters
{
    public static void Register(IDictionary<Type, ModuleConverter> table)
    {
        table[typeof(Sequential)] = ConvertSequential;
        table[typeof(Conv2d)] = ConvertConv2d;
        table[typeof(BatchNorm2d)] = ConvertBatchNorm2d;
        table[typeof(Linear)] = ConvertLinear;
        table[typeof(LayerNorm)] = ConvertLayerNorm;
        table[typeof(ReLU)] = (e, _, p, x) => e.Graph.Unary("Relu", p, x);
        table[typeof(ReLU6)] = (e, _, p, x) => Clip(e, p, x, 0, 6);
        table[typeof(Hardswish)] = (e, _, p, x) => e.Graph.Unary("HardSwish", p, x);
        // PyTorch's hardsigmoid is relu6(x + 3) / 6, ONNX's is max(0, min(1, alpha * x + beta)).
        table[typeof(Hardsigmoid)] = (e, _, p, x) =>
            e.Graph.Unary("HardSigmoid", p, x, Attr.Float("alpha", 1f / 6f), Attr.Float("beta", 0.5f));
        table[typeof(SiLU)] = (e, _, p, x) => Silu(e, p, x);
        table[typeof(Sigmoid)] = (e, _, p, x) => e.Graph.Unary("Sigmoid", p, x);
        table[typeof(Tanh)] = (e, _, p, x) => e.Graph.Unary("Tanh", p, x);
        table[typeof(GELU)] = ConvertGelu;
        // Dropout is the identity at inference, and the exporter puts the model in eval mode.
        table[typeof(Dropout)] = (_, _, _, x) => x;
        table[typeof(Dropout2d)] = (_, _, _, x) => x;
        table[typeof(Identity)] = (_, _, _, x) => x;
        table[typeof(Flatten)] = ConvertFlatten;
        table[typeof(MaxPool2d)] = ConvertMaxPool2d;
        table[typeof(AvgPool2d)] = ConvertAvgPool2d;
        table[typeof(AdaptiveAvgPool2d)] = ConvertAdaptiveAvgPool2d;
    }

    static OnnxValue ConvertSequential(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        foreach (var (name, child) in m.named_children())
            x = e.Convert(child, ModuleExporter.Join(path, name), x);
        return x;
    }

    static long[] Pair(long[]? values, long fallback)
    {
        if (values is null || values.Length == 0) return [fallback, fallback];
        return values.Length == 1 ? [values[0], values[0]] : [values[0], values[1]];
    }

    /// <summary>A layer's own symmetric padding as ONNX's [top, left, bottom, right], plus <paramref name="extra"/>.</summary>
    static long[] Pads(long[] pair, long[]? extra = null)
    {
        extra ??= [0, 0, 0, 0];
        return [pair[0] + extra[0], pair[1] + extra[1], pair[0] + extra[2], pair[1] + extra[3]];
    }

    static long[] Padded(long[] shape, long[]? extra) =>
        extra is null ? shape : [shape[0], shape[1], shape[2] + extra[0] + extra[2], shape[3] + extra[1] + extra[3]];

    static OnnxValue ConvertConv2d(ModuleExporter e, nn.Module m, string path, OnnxValue x) => Conv(e, (Conv2d)m, path, x);

    /// <summary>
    /// A convolution; <paramref name="extra"/> is zero padding [top, left, bottom, right] that the model applies
    /// in its forward before calling the layer, folded into the node's own pads.
    /// </summary>
    internal static OnnxValue Conv(ModuleExporter e, Conv2d conv, string path, OnnxValue x, long[]? extra = null)
    {
        if (conv.padding_mode != PaddingModes.Zeros)
            throw e.Refuse(conv, path, $"pads with {conv.padding_mode}; only zero padding is converted");
        if (conv.padding is null)
            throw e.Refuse(conv, path, "uses 'same' / 'valid' padding; only explicit padding is converted");
        var kernel = Pair(conv.kernel_size, 1);
        var stride = Pair(conv.stride, 1);
        var pads = Pads(Pair(conv.padding, 0), extra);
        var dilation = Pair(conv.dilation, 1);
        if (Models.TorchVisionModels.SubsamplesInput(conv))
        {
            // The 1x1 convolution runs at stride 1 on every second row and column (a forward pre-hook): a stride-2 convolution.
            if (kernel.Any(k => k != 1) || pads.Any(p => p != 0))
                throw e.Refuse(conv, path, "subsamples its input in a pre-hook but is not a 1x1 convolution without padding");
            stride = [stride[0] * 2, stride[1] * 2];
        }
        var shape = e.TorchShape(conv, path, Padded(x.Shape, extra));
        ExpectWindowShape(e, conv, path, x, shape, kernel, stride, pads, dilation, ceil: false, outChannels: conv.out_channels);
        var w = e.Parameter(conv, path, "weight", conv.weight);
        var b = conv.bias is null ? null : e.Parameter(conv, path, "bias", conv.bias);
        return e.Graph.Node("Conv", path, b is null ? [x, w] : [x, w, b], shape,
            Attr.Ints("kernel_shape", kernel), Attr.Ints("strides", stride), Attr.Ints("pads", pads),
            Attr.Ints("dilations", dilation), Attr.Int("group", conv.groups));
    }

    /// <summary>
    /// Refuses a layer whose output shape (from running it) differs from the ONNX formula for the same window: the
    /// graph would then be wrong (e.g. PyTorch drops a ceil-mode window that starts in the padding, ONNX may not).
    /// </summary>
    static void ExpectWindowShape(ModuleExporter e, nn.Module m, string path, OnnxValue x, long[] torchShape,
        long[] kernel, long[] stride, long[] pads, long[] dilation, bool ceil, long? outChannels = null)
    {
        var expected = new[]
        {
            x.Shape[0], outChannels ?? x.Shape[1],
            WindowOutput(x.Shape[2], kernel[0], stride[0], pads[0] + pads[2], dilation[0], ceil),
            WindowOutput(x.Shape[3], kernel[1], stride[1], pads[1] + pads[3], dilation[1], ceil),
        };
        if (!expected.SequenceEqual(torchShape))
            throw e.Refuse(m, path,
                $"gives [{string.Join(", ", torchShape)}] on [{string.Join(", ", x.Shape)}], where ONNX's window would give [{string.Join(", ", expected)}]");
    }

    /// <summary>ONNX's output length of a sliding window (Conv, MaxPool, AveragePool) with <paramref name="pads"/> in all.</summary>
    internal static long WindowOutput(long input, long kernel, long stride, long pads, long dilation, bool ceil)
    {
        var span = input + pads - dilation * (kernel - 1) - 1;
        var steps = ceil ? (span + stride - 1) / stride : span / stride;
        return steps + 1;
    }

    static OnnxValue ConvertBatchNorm2d(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        var bn = (BatchNorm2d)m;
        if (!bn.track_running_stats || bn.running_mean is null || bn.running_var is null)
            throw e.Refuse(m, path, "keeps no running statistics, so it normalises with each batch's own even at inference");
        var c = bn.num_features;
        var scale = bn.weight is null ? e.Graph.Floats(path + ".weight", Enumerable.Repeat(1f, (int)c).ToArray(), [c])
            : e.Parameter(m, path, "weight", bn.weight);
        var bias = bn.bias is null ? e.Graph.Floats(path + ".bias", new float[c], [c])
            : e.Parameter(m, path, "bias", bn.bias);
        var mean = e.Graph.Weight(path + ".running_mean", bn.running_mean);
        var variance = e.Graph.Weight(path + ".running_var", bn.running_var);
        return e.Graph.Node("BatchNormalization", path, [x, scale, bias, mean, variance], x.Shape,
            Attr.Float("epsilon", (float)bn.eps));
    }

    static OnnxValue ConvertLinear(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        var linear = (Linear)m;
        if (x.Shape[^1] != linear.in_features)
            throw e.Refuse(m, path, $"takes {linear.in_features} features but receives [{string.Join(", ", x.Shape)}]");
        var w = e.Parameter(m, path, "weight", linear.weight);
        var b = linear.bias is null ? null : e.Parameter(m, path, "bias", linear.bias);
        if (x.Rank == 2)
        {
            OnnxValue[] inputs = b is null ? [x, w] : [x, w, b];
            return e.Graph.Node("Gemm", path, inputs, [x.Shape[0], linear.out_features], Attr.Int("transB", 1));
        }
        // Tokens [N, T, D]: the weight keeps its state_dict layout; ONNX Runtime folds the transpose at load.
        var y = e.Graph.MatMul(path, x, e.Graph.Transpose(path, w, 1, 0));
        return b is null ? y : e.Graph.Add(path, y, b);
    }

    static OnnxValue ConvertLayerNorm(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        var norm = (LayerNorm)m;
        var dims = norm.normalized_shape;
        if (dims.Length > x.Rank || !x.Shape[^dims.Length..].SequenceEqual(dims))
            throw e.Refuse(m, path, $"normalises over [{string.Join(", ", dims)}] but receives [{string.Join(", ", x.Shape)}]");
        var count = (int)dims.Aggregate(1L, (a, b) => a * b);
        var scale = norm.weight is null ? e.Graph.Floats(path + ".weight", Enumerable.Repeat(1f, count).ToArray(), dims)
            : e.Parameter(m, path, "weight", norm.weight);
        var bias = norm.bias is null ? null : e.Parameter(m, path, "bias", norm.bias);
        return e.Graph.Node("LayerNormalization", path, bias is null ? [x, scale] : [x, scale, bias], x.Shape,
            Attr.Int("axis", -dims.Length), Attr.Float("epsilon", (float)norm.eps));
    }

    static OnnxValue ConvertGelu(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        if (((GELU)m).approximate != GELU.Approximate.none)
            throw e.Refuse(m, path, "uses the tanh approximation; only the exact (erf) GELU is converted");
        return Gelu(e, path, x);
    }

    static OnnxValue ConvertFlatten(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        var flatten = (Flatten)m;
        var start = flatten.start_dim < 0 ? flatten.start_dim + x.Rank : flatten.start_dim;
        var end = flatten.end_dim < 0 ? flatten.end_dim + x.Rank : flatten.end_dim;
        if (start <= 0 || end < start || end >= x.Rank)
            throw e.Refuse(m, path, $"flattens axes {flatten.start_dim}..{flatten.end_dim} of a rank-{x.Rank} value; the batch axis must stay");
        if (end == x.Rank - 1) return e.Graph.Flatten(path, x, (int)start);
        var target = new List<long> { 0 };
        for (var i = 1; i < start; i++) target.Add(x.Shape[i]);
        target.Add(-1);
        for (var i = end + 1; i < x.Rank; i++) target.Add(x.Shape[i]);
        return e.Graph.Reshape(path, x, [.. target]);
    }

    static OnnxValue ConvertMaxPool2d(ModuleExporter e, nn.Module m, string path, OnnxValue x) => MaxPool(e, (MaxPool2d)m, path, x);

    /// <summary>
    /// A max-pool layer; <paramref name="extra"/> is minus-infinity padding [top, left, bottom, right] that the
    /// model applies before calling it, which is what the node's own pads mean.
    /// </summary>
    internal static OnnxValue MaxPool(ModuleExporter e, MaxPool2d pool, string path, OnnxValue x, long[]? extra = null)
    {
        var kernel = Pair(pool.kernel_size, 1);
        var stride = pool.stride is null || pool.stride.Length == 0 ? kernel : Pair(pool.stride, 1);
        var pads = Pads(Pair(pool.padding, 0), extra);
        var dilation = Pair(pool.dilation, 1);
        var shape = e.TorchShape(pool, path, Padded(x.Shape, extra));
        ExpectWindowShape(e, pool, path, x, shape, kernel, stride, pads, dilation, pool.ceil_mode);
        return MaxPool(e, path, x, kernel, stride, pads, dilation, pool.ceil_mode, shape);
    }

    /// <summary>A MaxPool node; <paramref name="pads"/> is [top, left, bottom, right].</summary>
    internal static OnnxValue MaxPool(ModuleExporter e, string path, OnnxValue x, long[] kernel, long[] stride,
        long[] pads, long[] dilation, bool ceil, long[]? shape = null)
    {
        shape ??= [x.Shape[0], x.Shape[1],
            WindowOutput(x.Shape[2], kernel[0], stride[0], pads[0] + pads[2], dilation[0], ceil),
            WindowOutput(x.Shape[3], kernel[1], stride[1], pads[1] + pads[3], dilation[1], ceil)];
        return e.Graph.Node("MaxPool", path, [x], shape,
            Attr.Ints("kernel_shape", kernel), Attr.Ints("strides", stride), Attr.Ints("pads", pads),
            Attr.Ints("dilations", dilation), Attr.Int("ceil_mode", ceil ? 1 : 0));
    }

    static OnnxValue ConvertAvgPool2d(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        var pool = (AvgPool2d)m;
        if (pool.divisor_override is not null)
            throw e.Refuse(m, path, "overrides its divisor, which ONNX's AveragePool cannot");
        var kernel = Pair(pool.kernel_size, 1);
        var stride = pool.stride is null || pool.stride.Length == 0 ? kernel : Pair(pool.stride, 1);
        var pads = Pads(Pair(pool.padding, 0));
        var shape = e.TorchShape(m, path, x.Shape);
        // A ceil-mode window that hangs over the edge is divided differently by PyTorch and ONNX Runtime, so
        // ceil mode is converted only where it adds no window.
        ExpectWindowShape(e, m, path, x, shape, kernel, stride, pads, [1, 1], ceil: false);
        return e.Graph.Node("AveragePool", path, [x], shape,
            Attr.Ints("kernel_shape", kernel), Attr.Ints("strides", stride), Attr.Ints("pads", pads),
            Attr.Int("count_include_pad", pool.count_include_pad ? 1 : 0));
    }

    static OnnxValue ConvertAdaptiveAvgPool2d(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        var size = Pair(((AdaptiveAvgPool2d)m).output_size, 1);
        var shape = e.TorchShape(m, path, x.Shape);
        var (oh, ow) = (shape[2], shape[3]);
        if (size[0] > 0 && size[0] != oh || size[1] > 0 && size[1] != ow)
            throw e.Refuse(m, path, $"gives [{string.Join(", ", shape)}] for output size {size[0]}x{size[1]}");
        return AdaptiveAvgPool(e, path, x, oh, ow);
    }

    /// <summary>
    /// Adaptive average pooling to oh x ow. One cell: GlobalAveragePool. Even division: AveragePool. Otherwise
    /// (e.g. VGG's 7x7 from a 1x1 map at small inputs) each axis is a matrix product with PyTorch's windows,
    /// rows <c>floor(i * in / out) .. ceil((i + 1) * in / out)</c> averaged.
    /// </summary>
    internal static OnnxValue AdaptiveAvgPool(ModuleExporter e, string path, OnnxValue x, long oh, long ow)
    {
        var (h, w) = (x.Shape[2], x.Shape[3]);
        if (oh == 1 && ow == 1) return GlobalAveragePool(e, path, x);
        if (h % oh == 0 && w % ow == 0)
        {
            long[] kernel = [h / oh, w / ow];
            return e.Graph.Node("AveragePool", path, [x], [x.Shape[0], x.Shape[1], oh, ow],
                Attr.Ints("kernel_shape", kernel), Attr.Ints("strides", kernel));
        }
        var right = e.Graph.Floats(path + "/pool_w", PoolingMatrix(w, ow, transpose: true), [w, ow]);
        var left = e.Graph.Floats(path + "/pool_h", PoolingMatrix(h, oh, transpose: false), [oh, h]);
        return e.Graph.MatMul(path, left, e.Graph.MatMul(path, x, right));
    }

    /// <summary>The [output, input] averaging matrix of adaptive pooling on one axis (or its transpose).</summary>
    static float[] PoolingMatrix(long input, long output, bool transpose)
    {
        var m = new float[input * output];
        for (long i = 0; i < output; i++)
        {
            var start = i * input / output;
            var end = ((i + 1) * input + output - 1) / output;
            for (var j = start; j < end; j++)
                m[transpose ? j * output + i : i * input + j] = 1f / (end - start);
        }
        return m;
    }

    internal static OnnxValue GlobalAveragePool(ModuleExporter e, string path, OnnxValue x) =>
        e.Graph.Node("GlobalAveragePool", path, [x], [x.Shape[0], x.Shape[1], 1, 1]);

    internal static OnnxValue Clip(ModuleExporter e, string path, OnnxValue x, float min, float max) =>
        e.Graph.Node("Clip", path, [x, e.Graph.Scalar(path + "/min", min), e.Graph.Scalar(path + "/max", max)], x.Shape);

    internal static OnnxValue Silu(ModuleExporter e, string path, OnnxValue x) =>
        e.Graph.Mul(path, x, e.Graph.Unary("Sigmoid", path, x));

    /// <summary>Exact GELU, x * (1 + erf(x / sqrt 2)) / 2: opset 17 has no Gelu operator (it came in opset 20).</summary>
    internal static OnnxValue Gelu(ModuleExporter e, string path, OnnxValue x)
    {
        var g = e.Graph;
        var erf = g.Unary("Erf", path, g.Binary("Div", path, x, g.Scalar(path + "/sqrt2", MathF.Sqrt(2f))));
        var half = g.Mul(path, x, g.Scalar(path + "/half", 0.5f));
        return g.Mul(path, half, g.Add(path, erf, g.Scalar(path + "/one", 1f)));
    }
}
