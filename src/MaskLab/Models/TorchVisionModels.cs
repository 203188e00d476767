using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Models;

/// <summary>
/// Architectures TorchVision .NET already has, with the head sized to the task. Their submodule names are
/// torchvision's, so torchvision state_dicts load through <see cref="Pretrained"/> without renames.
/// </summary>
internal static class TorchVisionModels
{
    public static nn.Module<Tensor, Tensor> ResNet18(int classes) => torchvision.models.resnet18(num_classes: classes);
    public static nn.Module<Tensor, Tensor> ResNet34(int classes) => torchvision.models.resnet34(num_classes: classes);
    public static nn.Module<Tensor, Tensor> ResNet50(int classes) =>
        AvoidStridedPointwiseBackward(torchvision.models.resnet50(num_classes: classes));
    public static nn.Module<Tensor, Tensor> ResNeXt50_32x4d(int classes) =>
        AvoidStridedPointwiseBackward(torchvision.models.resnext50_32x4d(num_classes: classes));

    public static nn.Module<Tensor, Tensor> Vgg11(int classes) => torchvision.models.vgg11(num_classes: classes);
    public static nn.Module<Tensor, Tensor> Vgg16(int classes) => torchvision.models.vgg16(num_classes: classes);
    public static nn.Module<Tensor, Tensor> Vgg11Bn(int classes) => torchvision.models.vgg11_bn(num_classes: classes);
    public static nn.Module<Tensor, Tensor> Vgg16Bn(int classes) => torchvision.models.vgg16_bn(num_classes: classes);

    /// <summary>GoogLeNet without the auxiliary heads (TorchVision .NET never builds them).</summary>
    public static nn.Module<Tensor, Tensor> GoogLeNet(int classes) => torchvision.models.googlenet(num_classes: classes);

    public static nn.Module<Tensor, Tensor> MobileNetV3Small(int classes) =>
        new MobileNetV3Head(torchvision.models.mobilenet_v3_small(), classes);

    public static nn.Module<Tensor, Tensor> MobileNetV3Large(int classes) =>
        new MobileNetV3Head(torchvision.models.mobilenet_v3_large(), classes);

    /// <summary>
    /// The oneDNN 3.7.1 inside libtorch 2.10 dies with SIGFPE (integer division by zero in
    /// brgemm_convolution_bwd_utils::brg_blocking_t::est_eff_1x1) when it plans the input gradient of some 1x1
    /// stride-2 convolutions, e.g. 512 -> 1024 and 1024 -> 2048 channels at any input size: the downsample
    /// shortcuts of ResNet-50's layer3 and layer4, so one backward pass kills the process. A 1x1 convolution with
    /// stride 2 equals a 1x1 convolution with stride 1 on every second row and column, which takes another
    /// oneDNN path; the weights, their names and the outputs stay the same.
    /// </summary>
    internal static T AvoidStridedPointwiseBackward<T>(T model) where T : nn.Module
    {
        foreach (var (_, module) in model.named_modules())
        {
            if (module is not TorchSharp.Modules.Conv2d conv) continue;
            if (!conv.kernel_size.SequenceEqual(new long[] { 1, 1 }) || !conv.stride.SequenceEqual(new long[] { 2, 2 })
                || conv.padding is not { } pad || pad.Any(p => p != 0) || conv.dilation.Any(d => d != 1))
                continue;
            conv.stride = [1, 1];
            conv.register_forward_pre_hook((_, x) =>
                x.slice(2, 0, x.shape[2], 2).slice(3, 0, x.shape[3], 2));
            SubsampledConvs.AddOrUpdate(conv, conv);
        }
        return model;
    }

    // The convolutions rewritten above, so that an exporter writes them as the stride-2 convolutions they are.
    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<TorchSharp.Modules.Conv2d, object> SubsampledConvs = new();

    /// <summary>Whether <paramref name="conv"/> runs at stride 1 on every second row and column of its input (see above).</summary>
    internal static bool SubsamplesInput(TorchSharp.Modules.Conv2d conv) => SubsampledConvs.TryGetValue(conv, out _);

    /// <summary>
    /// TorchVision .NET's MobileNetV3 has no class count and keeps its classifier private, so this takes over its
    /// <c>features</c> and <c>avgpool</c> and rebuilds <c>classifier</c> with the last Linear sized to the task.
    /// The names stay torchvision's (<c>features.*</c>, <c>classifier.0</c>, <c>classifier.3</c>).
    /// </summary>
    internal sealed class MobileNetV3Head : nn.Module<Tensor, Tensor>, IFeatureModel
    {
        readonly nn.Module<Tensor, Tensor> features;
        readonly nn.Module<Tensor, Tensor> avgpool;
        readonly nn.Module<Tensor, Tensor> classifier;
        // The classifier's layers in order; an array field, so RegisterComponents does not register them twice.
        readonly nn.Module<Tensor, Tensor>[] _classifierLayers;

        public long NumFeatures { get; }

        public MobileNetV3Head(nn.Module<Tensor, Tensor> source, int classes) : base("MobileNetV3")
        {
            var children = source.named_children().ToDictionary(c => c.name, c => c.module);
            features = (nn.Module<Tensor, Tensor>)children["features"];
            avgpool = (nn.Module<Tensor, Tensor>)children["avgpool"];
            var old = children["classifier"].named_children().ToList();
            var last = (TorchSharp.Modules.Linear)old[^1].module;
            var fc = nn.Linear(last.in_features, classes);
            // torchvision's initialisation for MobileNetV3 linears.
            using (no_grad())
            {
                nn.init.normal_(fc.weight, 0, 0.01);
                nn.init.zeros_(fc.bias);
            }
            last.Dispose();
            var kept = old.Take(old.Count - 1).Select(c => (c.name, (nn.Module<Tensor, Tensor>)c.module)).ToList();
            kept.Add((old[^1].name, fc));
            _classifierLayers = kept.Select(k => k.Item2).ToArray();
            NumFeatures = fc.in_features;
            classifier = nn.Sequential(kept);
            RegisterComponents();
        }

        public Tensor forward_features(Tensor x)
        {
            using var scope = NewDisposeScope();
            x = features.call(x);
            x = avgpool.call(x).flatten(1);
            foreach (var layer in _classifierLayers[..^1]) x = layer.call(x);
            return x.MoveToOuterDisposeScope();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            return _classifierLayers[^1].call(forward_features(x)).MoveToOuterDisposeScope();
        }
    }
}
