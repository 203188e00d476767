using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MaskLab.Models;

/// <summary>
/// The ResNet of ML.NET's ImageNet featurizer (NuGet <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>, a CNTK 2.6
/// ONNX export), rebuilt so that its weights load exactly (<see cref="MlNetResNet18Weights"/>), with a fresh linear
/// classifier on the 512 pooled features. It is not torchvision's resnet18, and torchvision's weights do not fit:
/// <list type="bullet">
/// <item>the last stage has three basic blocks, not two (22 convolutions, 15.9 M parameters without the classifier);</item>
/// <item>stride-2 layers pad more at the top / left than at the bottom / right. The graph, exported for 224x224,
/// spells this out as pads 3 before / 2 after for the 7x7 stem and 1 / 0 for the max-pool and the stride-2 3x3
/// convolutions: what ONNX's <c>auto_pad = SAME_LOWER</c> gives there (output ceil(n / 2), an odd total with
/// the extra pixel at the start). The model applies that rule at every size, so it pads exactly as the file
/// does wherever the sides entering those layers are even (224, 128x96, any multiple of 32), and at other sizes
/// it pads the only way that keeps a block's two branches the same size (the file's fixed pads would make
/// the residual additions fail). Symmetric padding would give other features at odd sizes.</item>
/// </list>
/// The input is RGB like every other model here; the file's graph reads BGR, so the stem's input channels are
/// reversed when its weights are converted. Names follow torchvision's ResNet (<c>conv1</c>, <c>bn1</c>,
/// <c>layer{1-4}.{b}.conv1</c>, <c>downsample.0</c>, <c>fc</c>), so a state_dict saved from this model loads back
/// through <see cref="Pretrained"/>. Any input size works (global average pooling); random initialisation is
/// torchvision's.
/// </summary>
internal sealed class MlNetResNet18 : Module<Tensor, Tensor>, IFeatureModel, IBackboneSplit
{
    /// <summary>Basic blocks per stage (torchvision's resnet18 has 2, 2, 2, 2).</summary>
    public static IReadOnlyList<int> BlocksPerStage { get; } = [2, 2, 2, 3];

    /// <summary>Output channels per stage.</summary>
    public static IReadOnlyList<int> Widths { get; } = [64, 128, 256, 512];

    readonly Conv2d conv1;
    readonly BatchNorm2d bn1;
    readonly MaxPool2d maxpool;
    readonly Sequential layer1, layer2, layer3, layer4;
    readonly Linear fc;

    public long NumFeatures => Widths[^1];

    public MlNetResNet18(int numClasses) : base("resnet18_mlnet")
    {
        if (numClasses < 1) throw new MaskLabInputException($"resnet18_mlnet needs at least 1 class, got {numClasses}");
        conv1 = Conv2d(3, 64, kernel_size: 7, stride: 2, padding: 0L, bias: false);
        bn1 = BatchNorm2d(64);
        maxpool = MaxPool2d(kernel_size: 3, stride: 2);
        var stages = new Sequential[4];
        long inChannels = 64;
        for (var s = 0; s < stages.Length; s++)
        {
            var blocks = new List<(string, Module<Tensor, Tensor>)>();
            for (var b = 0; b < BlocksPerStage[s]; b++)
            {
                var stride = s > 0 && b == 0 ? 2 : 1;
                blocks.Add((b.ToString(System.Globalization.CultureInfo.InvariantCulture), new Block(inChannels, Widths[s], stride)));
                inChannels = Widths[s];
            }
            stages[s] = Sequential(blocks);
        }
        (layer1, layer2, layer3, layer4) = (stages[0], stages[1], stages[2], stages[3]);
        fc = Linear(Widths[^1], numClasses);
        RegisterComponents();
        InitWeights();
    }

    /// <summary>torchvision's ResNet initialisation: Kaiming-normal (fan out) convolutions, BatchNorm at 1 and 0.</summary>
    void InitWeights()
    {
        using var _ = no_grad();
        foreach (var (_, module) in named_modules())
        {
            if (module is Conv2d conv) init.kaiming_normal_(conv.weight, mode: init.FanInOut.FanOut, nonlinearity: init.NonlinearityType.ReLU);
            else if (module is BatchNorm2d bn)
            {
                init.ones_(bn.weight);
                init.zeros_(bn.bias);
            }
        }
    }

    /// <summary>
    /// ONNX's SAME_LOWER padding of the last two dimensions for a <paramref name="kernel"/> x kernel window with
    /// stride <paramref name="stride"/>: enough for ceil(n / stride) outputs, the odd pixel of the total before.
    /// </summary>
    internal static Tensor PadSameLower(Tensor x, long kernel, long stride, double value = 0.0)
    {
        static (long Before, long After) Split(long n, long kernel, long stride)
        {
            var outputs = (n + stride - 1) / stride;
            var total = Math.Max(0, (outputs - 1) * stride + kernel - n);
            return ((total + 1) / 2, total / 2);
        }
        var (top, bottom) = Split(x.shape[^2], kernel, stride);
        var (left, right) = Split(x.shape[^1], kernel, stride);
        return functional.pad(x, [left, right, top, bottom], PaddingModes.Constant, value);
    }

    public Tensor forward_features(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = functional.relu(bn1.call(conv1.call(PadSameLower(x, 7, 2))));
        // Minus infinity, as a max-pool's padding is (it follows a ReLU, so 0 would give the same).
        x = maxpool.call(PadSameLower(x, 3, 2, double.NegativeInfinity));
        x = layer4.call(layer3.call(layer2.call(layer1.call(x))));
        return functional.adaptive_avg_pool2d(x, 1).flatten(1).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc.call(forward_features(x)).MoveToOuterDisposeScope();
    }

    public IEnumerable<Parameter> BackboneParameters() =>
        named_parameters().Where(p => !p.name.StartsWith("fc.", StringComparison.Ordinal)).Select(p => p.parameter);

    public IEnumerable<Parameter> HeadParameters() => fc.parameters();

    /// <summary>
    /// A basic block: 3x3 conv, BN, ReLU, 3x3 conv, BN, plus the shortcut (a 1x1 stride-2 conv and BN where the
    /// block halves the size), ReLU. A stride-2 block pads its first convolution SAME_LOWER (1 before, 0 after
    /// for an even side; 1 and 1 for an odd one).
    /// </summary>
    internal sealed class Block : Module<Tensor, Tensor>
    {
        readonly Conv2d conv1, conv2;
        readonly BatchNorm2d bn1, bn2;
        readonly Sequential? downsample;
        readonly bool _strided;

        /// <summary>Whether the block halves the size, padding its first convolution SAME_LOWER in its forward.</summary>
        public bool Strided => _strided;

        public Block(long inChannels, long outChannels, int stride) : base("BasicBlock")
        {
            _strided = stride == 2;
            conv1 = Conv2d(inChannels, outChannels, kernel_size: 3, stride: stride, padding: _strided ? 0L : 1L, bias: false);
            bn1 = BatchNorm2d(outChannels);
            conv2 = Conv2d(outChannels, outChannels, kernel_size: 3, stride: 1, padding: 1L, bias: false);
            bn2 = BatchNorm2d(outChannels);
            if (stride != 1 || inChannels != outChannels)
                downsample = Sequential(
                    ("0", Conv2d(inChannels, outChannels, kernel_size: 1, stride: stride, bias: false)),
                    ("1", BatchNorm2d(outChannels)));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var y = functional.relu(bn1.call(conv1.call(_strided ? PadSameLower(x, 3, 2) : x)));
            y = bn2.call(conv2.call(y));
            var shortcut = downsample is null ? x : downsample.call(x);
            return functional.relu(y.add_(shortcut)).MoveToOuterDisposeScope();
        }
    }
}
