using System.Reflection;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Export;

/// <summary>
/// Converters for the TorchVision .NET (0.107) architectures the registry builds. Each rewrites its module's
/// forward from TorchVision's source: ResNet's residual blocks, VGG, GoogLeNet's inception concat, MobileNetV3's
/// inverted residuals with squeeze-excitation. TorchVision keeps the block types private, so they are found by name;
/// if a later TorchVision renames one, its modules meet no converter and are refused.
/// </summary>
internal static class TorchVisionConverters
{
    public static void Register(IDictionary<Type, ModuleConverter> table)
    {
        table[typeof(ResNet)] = ConvertResNet;
        AddNested(table, typeof(ResNet), "BasicBlock", ConvertBasicBlock);
        AddNested(table, typeof(ResNet), "Bottleneck", ConvertBottleneck);
        table[typeof(VGG)] = ConvertVgg;
        table[typeof(GoogleNet)] = ConvertGoogLeNet;
        AddNested(table, typeof(GoogleNet), "Inception", ConvertInception);
        AddNested(table, typeof(MobileNetV3), "InvertedResidual", ConvertInvertedResidual);
        table[typeof(torchvision.SqueezeExcitation)] = ConvertSqueezeExcitation;
        table[typeof(Models.TorchVisionModels.MobileNetV3Head)] = ConvertMobileNetV3Head;
    }

    static void AddNested(IDictionary<Type, ModuleConverter> table, Type outer, string name, ModuleConverter converter)
    {
        var type = outer.GetNestedType(name, BindingFlags.Public | BindingFlags.NonPublic);
        if (type is not null) table[type] = converter;
    }

    static OnnxValue Chain(ModuleExporter e, nn.Module m, string path, OnnxValue x, params string[] children)
    {
        foreach (var name in children) x = e.Child(m, path, name, x);
        return x;
    }

    static OnnxValue ConvertResNet(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        string[] order = ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "flatten", "fc"];
        e.ExpectChildren(m, path, order);
        return Chain(e, m, path, x, order);
    }

    /// <summary>relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), the shortcut being the identity or the downsample.</summary>
    static OnnxValue ConvertBasicBlock(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        e.ExpectChildren(m, path, ["conv1", "bn1", "relu1", "conv2", "bn2"], "downsample");
        var y = Chain(e, m, path, x, "conv1", "bn1", "relu1", "conv2", "bn2");
        return Residual(e, m, path, x, y);
    }

    static OnnxValue ConvertBottleneck(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        e.ExpectChildren(m, path, ["conv1", "bn1", "relu1", "conv2", "bn2", "relu2", "conv3", "bn3"], "downsample");
        var y = Chain(e, m, path, x, "conv1", "bn1", "relu1", "conv2", "bn2", "relu2", "conv3", "bn3");
        return Residual(e, m, path, x, y);
    }

    static OnnxValue Residual(ModuleExporter e, nn.Module m, string path, OnnxValue x, OnnxValue y)
    {
        var shortcut = m.named_children().Any(c => c.name == "downsample") ? e.Child(m, path, "downsample", x) : x;
        return e.Graph.Unary("Relu", path, e.Graph.Add(path, y, shortcut));
    }

    static OnnxValue ConvertVgg(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        e.ExpectChildren(m, path, ["features", "avgpool", "classifier"]);
        x = Chain(e, m, path, x, "features", "avgpool");
        return e.Child(m, path, "classifier", e.Graph.Flatten(path, x, 1));
    }

    static OnnxValue ConvertGoogLeNet(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        if (e.PrivateField<bool>(m, path, "transform_input"))
            throw e.Refuse(m, path, "re-normalises its input (transform_input), which has no converter");
        string[] features =
        [
            "conv1", "maxpool1", "conv2", "conv3", "maxpool2", "inception3a", "inception3b", "maxpool3",
            "inception4a", "inception4b", "inception4c", "inception4d", "inception4e", "maxpool4",
            "inception5a", "inception5b", "avgpool",
        ];
        e.ExpectChildren(m, path, [.. features, "dropout", "fc"]);
        x = e.Graph.Flatten(path, Chain(e, m, path, x, features), 1);
        return Chain(e, m, path, x, "dropout", "fc");
    }

    static OnnxValue ConvertInception(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        string[] branches = ["branch1", "branch2", "branch3", "branch4"];
        e.ExpectChildren(m, path, branches);
        return e.Graph.Concat(path, branches.Select(b => e.Child(m, path, b, x)).ToArray(), axis: 1);
    }

    static OnnxValue ConvertInvertedResidual(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        e.ExpectChildren(m, path, ["block"]);
        var y = e.Child(m, path, "block", x);
        return e.PrivateField<bool>(m, path, "use_res_connect") ? e.Graph.Add(path, y, x) : y;
    }

    /// <summary>x * scale_activation(fc2(activation(fc1(avgpool(x))))).</summary>
    static OnnxValue ConvertSqueezeExcitation(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        string[] order = ["avgpool", "fc1", "activation", "fc2", "scale_activation"];
        e.ExpectChildren(m, path, order);
        return e.Graph.Mul(path, Chain(e, m, path, x, order), x);
    }

    static OnnxValue ConvertMobileNetV3Head(ModuleExporter e, nn.Module m, string path, OnnxValue x)
    {
        e.ExpectChildren(m, path, ["features", "avgpool", "classifier"]);
        x = Chain(e, m, path, x, "features", "avgpool");
        return e.Child(m, path, "classifier", e.Graph.Flatten(path, x, 1));
    }
}
