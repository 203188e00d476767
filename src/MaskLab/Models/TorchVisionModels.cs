using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Models;

/// <summary>Architectures TorchVision .NET already has, with the head sized to the task.</summary>
public static class TorchVisionModels
{
    public static nn.Module<Tensor, Tensor> ResNet18(int classes) => torchvision.models.resnet18(num_classes: classes);
    public static nn.Module<Tensor, Tensor> ResNet34(int classes) => torchvision.models.resnet34(num_classes: classes);
    public static nn.Module<Tensor, Tensor> ResNet50(int classes) => torchvision.models.resnet50(num_classes: classes);
}
