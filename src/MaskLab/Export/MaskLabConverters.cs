using MaskLab.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Export;

/// <summary>
/// Converters for the architectures MaskLab writes itself (Models/): the competition's BaseModel, ML.NET's ResNet18
/// layout, EfficientNet, ViT and MLP-Mixer. Each mirrors its module's forward at inference (stochastic depth and dropout are identities).
/// </summary>
internal static class MaskLabConverters
{
    public static void Register(IDictionary<Type, ModuleConverter> table)
    {
        table[typeof(BaseModel)] = ConvertBaseModel;
        table[typeof(MlNetResNet18)] = ConvertMlNetResNet18;
        table[typeof(MlNetResNet18.Block)] = ConvertMlNetBlock;
        table[typeof(EfficientNet)] = ConvertEfficientNet;
        table[typeof(EfficientNet.MBConv)] = ConvertMBConv;
        table[typeof(EfficientNet.SqueezeExcitation)] = ConvertEfficientNetSe;
        table[typeof(VisionTransformer)] = ConvertVit;
        table[typeof(VisionTransformer.PatchEmbed)] = ConvertPatchEmbed;
        table[typeof(VisionTransformer.TransformerBlock)] = ConvertTransformerBlock;
        table[typeof(VisionTransformer.Attention)] = ConvertAttention;
        table[typeof(Mlp)] = ConvertMlp;
        table[typeof(MlpMixer)] = ConvertMixer;
        table[typeof(MlpMixer.MixerBlock)] = ConvertMixerBlock;
    }

    /// <summary>relu(conv1), relu(conv2), maxpool 2, relu(conv3), maxpool 2, global average pool, fc.</summary>
    static OnnxValue ConvertBaseModel(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        e.ExpectChildren(m, path, ["conv1", "conv2", "conv3", "dropout1", "dropout2", "fc"]);
        var g = e.Graph;
        x = g.Unary("Relu", path, e.Child(m, path, "conv1", x));
        x = g.Unary("Relu", path, e.Child(m, path, "conv2", x));
        x = e.Child(m, path, "dropout1", LayerConverters.MaxPool(e, path, x, [2, 2], [2, 2], [0, 0, 0, 0], [1, 1], ceil: false));
        x = g.Unary("Relu", path, e.Child(m, path, "conv3", x));
        x = e.Child(m, path, "dropout2", LayerConverters.MaxPool(e, path, x, [2, 2], [2, 2], [0, 0, 0, 0], [1, 1], ceil: false));
        x = g.Flatten(path, LayerConverters.GlobalAveragePool(e, path, x), 1);
        return e.Child(m, path, "fc", x);
    }

    /// <summary>
    /// ML.NET's ResNet18 layout: the stem convolution and the max-pool pad SAME_LOWER in the model's forward, which
    /// becomes the nodes' own asymmetric pads; ReLUs are functional; global average pool, flatten, fc.
    /// </summary>
    static OnnxValue ConvertMlNetResNet18(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        e.ExpectChildren(m, path, ["conv1", "bn1", "maxpool", "layer1", "layer2", "layer3", "layer4", "fc"]);
        var g = e.Graph;
        var conv1 = e.Layer<TorchSharp.Modules.Conv2d>(m, path, "conv1");
        x = LayerConverters.Conv(e, conv1, ModuleExporter.Join(path, "conv1"), x, SameLowerPads(x, 7, 2));
        x = g.Unary("Relu", path, e.Child(m, path, "bn1", x));
        var maxpool = e.Layer<TorchSharp.Modules.MaxPool2d>(m, path, "maxpool");
        x = LayerConverters.MaxPool(e, maxpool, ModuleExporter.Join(path, "maxpool"), x, SameLowerPads(x, 3, 2));
        foreach (var layer in new[] { "layer1", "layer2", "layer3", "layer4" }) x = e.Child(m, path, layer, x);
        x = g.Flatten(path, LayerConverters.GlobalAveragePool(e, path, x), 1);
        return e.Child(m, path, "fc", x);
    }

    /// <summary>relu(bn2(conv2(relu(bn1(conv1(pad(x)))))) + shortcut(x)); only a strided block pads, SAME_LOWER.</summary>
    static OnnxValue ConvertMlNetBlock(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        e.ExpectChildren(m, path, ["conv1", "bn1", "conv2", "bn2"], "downsample");
        var g = e.Graph;
        var conv1 = e.Layer<TorchSharp.Modules.Conv2d>(m, path, "conv1");
        var pads = ((MlNetResNet18.Block)m).Strided ? SameLowerPads(x, 3, 2) : null;
        var y = LayerConverters.Conv(e, conv1, ModuleExporter.Join(path, "conv1"), x, pads);
        y = g.Unary("Relu", path, e.Child(m, path, "bn1", y));
        y = e.Child(m, path, "bn2", e.Child(m, path, "conv2", y));
        var shortcut = m.named_children().Any(c => c.name == "downsample") ? e.Child(m, path, "downsample", x) : x;
        return g.Unary("Relu", path, g.Add(path, y, shortcut));
    }

    /// <summary>
    /// ONNX's SAME_LOWER padding [top, left, bottom, right] of a k x k window with stride s on x's last two axes:
    /// enough for ceil(n / s) outputs, the odd pixel of the total at the start.
    /// </summary>
    static long[] SameLowerPads(OnnxValue x, long kernel, long stride)
    {
        (long Before, long After) Split(long n)
        {
            var total = Math.Max(0, ((n + stride - 1) / stride - 1) * stride + kernel - n);
            return (total - total / 2, total / 2);
        }
        var (top, bottom) = Split(x.Shape[2]);
        var (left, right) = Split(x.Shape[3]);
        return [top, left, bottom, right];
    }

    static OnnxValue ConvertEfficientNet(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        e.ExpectChildren(m, path, ["features", "avgpool", "classifier"]);
        x = e.Child(m, path, "avgpool", e.Child(m, path, "features", x));
        return e.Child(m, path, "classifier", e.Graph.Flatten(path, x, 1));
    }

    static OnnxValue ConvertMBConv(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        e.ExpectChildren(m, path, ["block"]);
        var y = e.Child(m, path, "block", x);
        return ((EfficientNet.MBConv)m).Residual ? e.Graph.Add(path, y, x) : y;
    }

    /// <summary>x * sigmoid(fc2(silu(fc1(mean over H, W of x)))).</summary>
    static OnnxValue ConvertEfficientNetSe(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        e.ExpectChildren(m, path, ["fc1", "fc2"]);
        var s = LayerConverters.GlobalAveragePool(e, path, x);
        s = LayerConverters.Silu(e, path, e.Child(m, path, "fc1", s));
        s = e.Graph.Unary("Sigmoid", path, e.Child(m, path, "fc2", s));
        return e.Graph.Mul(path, x, s);
    }

    /// <summary>
    /// Patch tokens, the class token in front, the position embedding resampled to this input's grid (done once
    /// here, as the model does in each forward), the blocks, the norm, the class token's features, the head.
    /// </summary>
    static OnnxValue ConvertVit(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        e.ExpectChildren(m, path, ["patch_embed", "blocks", "norm", "head"]);
        var vit = (VisionTransformer)m;
        var (h, w) = (x.Shape[2], x.Shape[3]);
        if (h % VisionTransformer.Patch != 0 || w % VisionTransformer.Patch != 0)
            throw e.Refuse(m, path, $"cuts {VisionTransformer.Patch}x{VisionTransformer.Patch} patches, but the input is {w}x{h}");
        var g = e.Graph;
        var tokens = e.Child(m, path, "patch_embed", x);
        var dim = tokens.Shape[2];

        var cls = e.Parameter(m, path, "cls_token");
        var batch = g.Node("Shape", path, [tokens], [1], Attr.Int("start", 0), Attr.Int("end", 1));
        var clsShape = g.Concat(path, [batch, g.Int64s(path + "/cls_rest", 1, dim)], axis: 0);
        var clsBatch = g.Node("Expand", path, [cls, clsShape], [tokens.Shape[0], 1, dim]);
        var seq = g.Concat(path, [clsBatch, tokens], axis: 1);

        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var pos = vit.PositionEmbedding(h / VisionTransformer.Patch, w / VisionTransformer.Patch);
            seq = g.Add(path, seq, e.Parameter(m, path, "pos_embed", pos));
        }

        seq = Blocks(e, m, path, seq);
        seq = e.Child(m, path, "norm", seq);
        return e.Child(m, path, "head", g.Select(path, seq, axis: 1, index: 0));
    }

    /// <summary>The modules of a ModuleList child named <c>blocks</c>, in order.</summary>
    static OnnxValue Blocks(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        var blocksPath = ModuleExporter.Join(path, "blocks");
        foreach (var (name, block) in e.ChildModule(m, path, "blocks").named_children())
            x = e.Convert(block, ModuleExporter.Join(blocksPath, name), x);
        return x;
    }

    /// <summary>A stride-16 convolution, then [N, D, gh, gw] to tokens [N, gh * gw, D].</summary>
    static OnnxValue ConvertPatchEmbed(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        e.ExpectChildren(m, path, ["proj"]);
        var y = e.Child(m, path, "proj", x);
        y = e.Graph.Reshape(path, y, 0, y.Shape[1], y.Shape[2] * y.Shape[3]);
        return e.Graph.Transpose(path, y, 0, 2, 1);
    }

    static OnnxValue ConvertTransformerBlock(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        e.ExpectChildren(m, path, ["norm1", "attn", "norm2", "mlp"]);
        x = e.Graph.Add(path, x, e.Child(m, path, "attn", e.Child(m, path, "norm1", x)));
        return e.Graph.Add(path, x, e.Child(m, path, "mlp", e.Child(m, path, "norm2", x)));
    }

    /// <summary>
    /// Multi-head self-attention as scaled_dot_product_attention computes it: qkv laid out [q; k; v] with the heads
    /// inside each, softmax(q kᵀ / sqrt(head width)) v, heads joined, projected.
    /// </summary>
    static OnnxValue ConvertAttention(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        e.ExpectChildren(m, path, ["qkv", "proj"]);
        var g = e.Graph;
        var heads = ((VisionTransformer.Attention)m).Heads;
        var (t, c) = (x.Shape[1], x.Shape[2]);
        if (c % heads != 0) throw e.Refuse(m, path, $"splits {c} channels into {heads} heads");
        var hd = c / heads;
        var qkv = g.Reshape(path, e.Child(m, path, "qkv", x), 0, t, 3, heads, hd);
        qkv = g.Transpose(path, qkv, 2, 0, 3, 1, 4);                       // [3, N, heads, T, hd]
        var q = g.Select(path, qkv, 0, 0);
        var k = g.Select(path, qkv, 0, 1);
        var v = g.Select(path, qkv, 0, 2);
        var scores = g.MatMul(path, q, g.Transpose(path, k, 0, 1, 3, 2));  // [N, heads, T, T]
        scores = g.Mul(path, scores, g.Scalar(path + "/scale", (float)(1.0 / Math.Sqrt(hd))));
        var y = g.MatMul(path, g.Softmax(path, scores, -1), v);           // [N, heads, T, hd]
        y = g.Reshape(path, g.Transpose(path, y, 0, 2, 1, 3), 0, t, c);
        return e.Child(m, path, "proj", y);
    }

    static OnnxValue ConvertMlp(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        e.ExpectChildren(m, path, ["fc1", "fc2"]);
        return e.Child(m, path, "fc2", LayerConverters.Gelu(e, path, e.Child(m, path, "fc1", x)));
    }

    static OnnxValue ConvertMixer(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        e.ExpectChildren(m, path, ["stem", "blocks", "norm", "head"]);
        x = Blocks(e, m, path, e.Child(m, path, "stem", x));
        x = e.Graph.ReduceMean(path, e.Child(m, path, "norm", x), axis: 1, keepDims: false);
        return e.Child(m, path, "head", x);
    }

    /// <summary>x + tokens-MLP(norm1(x)ᵀ)ᵀ, then x + channels-MLP(norm2(x)).</summary>
    static OnnxValue ConvertMixerBlock(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        e.ExpectChildren(m, path, ["norm1", "mlp_tokens", "norm2", "mlp_channels"]);
        var g = e.Graph;
        var mixed = g.Transpose(path, e.Child(m, path, "norm1", x), 0, 2, 1);
        mixed = g.Transpose(path, e.Child(m, path, "mlp_tokens", mixed), 0, 2, 1);
        x = g.Add(path, x, mixed);
        return g.Add(path, x, e.Child(m, path, "mlp_channels", e.Child(m, path, "norm2", x)));
    }
}
