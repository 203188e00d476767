using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MaskLab.Models;

/// <summary>Compound-scaling coefficients of one EfficientNet variant (Tan and Le, 2019, table 2 and section 3.3).</summary>
internal sealed record EfficientNetConfig(string Name, double WidthMult, double DepthMult, double Dropout)
{
    public static readonly EfficientNetConfig B0 = new("efficientnet_b0", 1.0, 1.0, 0.2);
    public static readonly EfficientNetConfig B1 = new("efficientnet_b1", 1.0, 1.1, 0.2);
    public static readonly EfficientNetConfig B2 = new("efficientnet_b2", 1.1, 1.2, 0.3);
    public static readonly EfficientNetConfig B3 = new("efficientnet_b3", 1.2, 1.4, 0.3);
}

/// <summary>
/// EfficientNet-B0..B3: MBConv blocks with depthwise convolutions, squeeze-excitation and SiLU, stochastic depth
/// growing linearly to 0.2 over the blocks, and width / depth multipliers on the B0 stage table.
/// Parameter names are torchvision's (<c>features.{stage}.{block}.block.{layer}</c>, <c>classifier.1</c>), so its
/// state_dicts load unchanged; timm's names (<c>conv_stem</c>, <c>blocks.{s}.{b}.conv_dw</c>, ...) are mapped by
/// <see cref="MapKey"/>. Any input size works (global average pooling).
/// </summary>
internal sealed class EfficientNet : Module<Tensor, Tensor>, IFeatureModel, IWeightMapping
{
    // Stage table of B0: expand ratio, kernel, stride, input channels, output channels, layers.
    static readonly (int Expand, int Kernel, int Stride, int In, int Out, int Layers)[] Stages =
    [
        (1, 3, 1, 32, 16, 1),
        (6, 3, 2, 16, 24, 2),
        (6, 5, 2, 24, 40, 2),
        (6, 3, 2, 40, 80, 3),
        (6, 5, 1, 80, 112, 3),
        (6, 5, 2, 112, 192, 4),
        (6, 3, 1, 192, 320, 1),
    ];

    const double StochasticDepth = 0.2;

    readonly Sequential features;
    readonly AdaptiveAvgPool2d avgpool;
    readonly Sequential classifier;

    // timm module path -> ours, built with the blocks since the layer index depends on the expand ratio.
    readonly Dictionary<string, string> _timmPaths = new();

    public long NumFeatures { get; }

    public EfficientNet(EfficientNetConfig config, int numClasses) : base(config.Name)
    {
        var stages = Stages.Select(s => (s.Expand, s.Kernel, s.Stride,
            In: MakeDivisible(s.In * config.WidthMult), Out: MakeDivisible(s.Out * config.WidthMult),
            Layers: (int)Math.Ceiling(s.Layers * config.DepthMult))).ToArray();

        var layers = new List<(string, Module<Tensor, Tensor>)>();
        layers.Add(("0", ConvBnAct(3, stages[0].In, 3, 2, 1, act: true)));
        MapTimm("conv_stem", "features.0.0");
        MapTimm("bn1", "features.0.1");

        var totalBlocks = stages.Sum(s => s.Layers);
        var blockId = 0;
        for (var s = 0; s < stages.Length; s++)
        {
            var st = stages[s];
            var blocks = new List<(string, Module<Tensor, Tensor>)>();
            for (var b = 0; b < st.Layers; b++)
            {
                var input = b == 0 ? st.In : st.Out;
                var stride = b == 0 ? st.Stride : 1;
                var block = new MBConv(input, st.Out, st.Expand, st.Kernel, stride, StochasticDepth * blockId / totalBlocks);
                blocks.Add((b.ToString(), block));
                MapTimmBlock(s, b, block.HasExpansion);
                blockId++;
            }
            layers.Add(((s + 1).ToString(), Sequential(blocks)));
        }

        var lastIn = stages[^1].Out;
        NumFeatures = 4 * lastIn;
        layers.Add(((stages.Length + 1).ToString(), ConvBnAct(lastIn, NumFeatures, 1, 1, 1, act: true)));
        MapTimm("conv_head", $"features.{stages.Length + 1}.0");
        MapTimm("bn2", $"features.{stages.Length + 1}.1");

        features = Sequential(layers);
        avgpool = AdaptiveAvgPool2d(1);
        classifier = Sequential(("0", Dropout(config.Dropout)), ("1", Linear(NumFeatures, numClasses)));
        MapTimm("classifier", "classifier.1");
        RegisterComponents();
        InitWeights();
    }

    void InitWeights()
    {
        using var _ = no_grad();
        foreach (var (_, m) in named_modules())
        {
            switch (m)
            {
                case Conv2d conv:
                    init.kaiming_normal_(conv.weight, mode: init.FanInOut.FanOut);
                    if (conv.bias is not null) init.zeros_(conv.bias);
                    break;
                case BatchNorm2d bn:
                    init.ones_(bn.weight);
                    init.zeros_(bn.bias);
                    break;
                case Linear linear:
                    var range = 1.0 / Math.Sqrt(linear.out_features);
                    init.uniform_(linear.weight, -range, range);
                    init.zeros_(linear.bias);
                    break;
            }
        }
    }

    public Tensor forward_features(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = features.call(x);
        return avgpool.call(x).flatten(1).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return classifier.call(forward_features(x)).MoveToOuterDisposeScope();
    }

    /// <summary>Rounds a channel count to a multiple of 8, never more than 10 % below the scaled value.</summary>
    internal static int MakeDivisible(double value, int divisor = 8)
    {
        var rounded = Math.Max(divisor, (int)(value + divisor / 2.0) / divisor * divisor);
        return rounded < 0.9 * value ? rounded + divisor : rounded;
    }

    static Sequential ConvBnAct(long input, long output, int kernel, int stride, long groups, bool act)
    {
        var conv = Conv2d(input, output, kernel, stride: stride, padding: (kernel - 1) / 2, groups: groups, bias: false);
        return act
            ? Sequential(("0", conv), ("1", BatchNorm2d(output)), ("2", SiLU()))
            : Sequential(("0", conv), ("1", BatchNorm2d(output)));
    }

    void MapTimm(string timmPath, string ours) => _timmPaths[timmPath] = ours;

    void MapTimmBlock(int stage, int index, bool expands)
    {
        var t = $"blocks.{stage}.{index}.";
        var o = $"features.{stage + 1}.{index}.block.";
        if (expands)
        {
            MapTimm(t + "conv_pw", o + "0.0");
            MapTimm(t + "bn1", o + "0.1");
            MapTimm(t + "conv_dw", o + "1.0");
            MapTimm(t + "bn2", o + "1.1");
            MapTimm(t + "se.conv_reduce", o + "2.fc1");
            MapTimm(t + "se.conv_expand", o + "2.fc2");
            MapTimm(t + "conv_pwl", o + "3.0");
            MapTimm(t + "bn3", o + "3.1");
        }
        else
        {
            // timm's DepthwiseSeparableConv: depthwise, SE, pointwise projection.
            MapTimm(t + "conv_dw", o + "0.0");
            MapTimm(t + "bn1", o + "0.1");
            MapTimm(t + "se.conv_reduce", o + "1.fc1");
            MapTimm(t + "se.conv_expand", o + "1.fc2");
            MapTimm(t + "conv_pw", o + "2.0");
            MapTimm(t + "bn2", o + "2.1");
        }
    }

    /// <summary>timm module paths and the torchvision-style paths used here.</summary>
    internal IReadOnlyDictionary<string, string> TimmPaths => _timmPaths;

    public string MapKey(string key)
    {
        var dot = key.LastIndexOf('.');
        if (dot < 0) return key;
        return _timmPaths.TryGetValue(key[..dot], out var ours) ? ours + key[dot..] : key;
    }

    /// <summary>Inverted residual block: 1x1 expansion, depthwise k x k, squeeze-excitation, 1x1 projection.</summary>
    internal sealed class MBConv : Module<Tensor, Tensor>
    {
        readonly Sequential block;
        readonly double _dropPath;
        readonly bool _residual;

        public bool HasExpansion { get; }

        /// <summary>Whether the block adds its input to its output (stride 1 and equal widths).</summary>
        public bool Residual => _residual;

        public MBConv(int input, int output, int expand, int kernel, int stride, double dropPath) : base("MBConv")
        {
            _dropPath = dropPath;
            _residual = stride == 1 && input == output;
            var expanded = MakeDivisible(input * (double)expand);
            HasExpansion = expanded != input;
            var layers = new List<(string, Module<Tensor, Tensor>)>();
            if (HasExpansion) layers.Add((layers.Count.ToString(), ConvBnAct(input, expanded, 1, 1, 1, act: true)));
            layers.Add((layers.Count.ToString(), ConvBnAct(expanded, expanded, kernel, stride, expanded, act: true)));
            // The squeeze width follows the block's input width, not the expanded one.
            layers.Add((layers.Count.ToString(), new SqueezeExcitation(expanded, Math.Max(1, input / 4))));
            layers.Add((layers.Count.ToString(), ConvBnAct(expanded, output, 1, 1, 1, act: false)));
            block = Sequential(layers);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            if (!_residual) return block.call(x);
            using var scope = NewDisposeScope();
            var y = block.call(x);
            if (training && _dropPath > 0) y = DropPath.Apply(y, _dropPath);
            return (y + x).MoveToOuterDisposeScope();
        }
    }

    internal sealed class SqueezeExcitation : Module<Tensor, Tensor>
    {
        readonly Conv2d fc1, fc2;

        public SqueezeExcitation(long channels, long squeeze) : base("SqueezeExcitation")
        {
            fc1 = Conv2d(channels, squeeze, 1);
            fc2 = Conv2d(squeeze, channels, 1);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var s = functional.adaptive_avg_pool2d(x, 1);
            s = functional.silu(fc1.call(s));
            s = functional.sigmoid(fc2.call(s));
            return (x * s).MoveToOuterDisposeScope();
        }
    }
}

/// <summary>Stochastic depth per sample ("row" mode): drops a residual branch for whole samples, rescaling the rest.</summary>
internal static class DropPath
{
    public static Tensor Apply(Tensor x, double p)
    {
        var keep = 1.0 - p;
        var shape = new long[x.dim()];
        Array.Fill(shape, 1L);
        shape[0] = x.shape[0];
        using var mask = empty(shape, x.dtype, x.device).bernoulli_(keep).div_(keep);
        return x * mask;
    }
}
