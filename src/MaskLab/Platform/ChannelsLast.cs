using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Platform;

/// <summary>
/// The channels-last memory layout (NHWC strides under the NCHW shape), which lets cuDNN and oneDNN run convolutions
/// without transposing. TorchSharp 0.107 names the format but has no call that takes it, so the layout is made the
/// way libtorch recognises it: from the strides of a permuted, contiguous copy.
/// </summary>
/// <remarks>
/// Only the batches are put in this layout. libtorch's convolutions pick channels-last when their input has it and
/// carry it through the network; the weights stay contiguous (converted by the convolution, a copy of a few MB a
/// step), so their gradients, the optimiser's state and checkpoints keep the plain layout TorchSharp serialises.
/// </remarks>
internal static class ChannelsLast
{
    /// <summary>A 4-d tensor in the channels-last layout (the same values and shape); other tensors unchanged.</summary>
    public static Tensor Of(Tensor x) =>
        x.dim() == 4 && !Is(x) ? x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : x.alias();

    /// <summary>Whether a 4-d tensor's strides are those of the channels-last layout.</summary>
    public static bool Is(Tensor x)
    {
        if (x.dim() != 4) return false;
        var (c, h, w) = (x.shape[1], x.shape[2], x.shape[3]);
        var s = x.stride();
        return s[1] == 1 && s[3] == c && s[2] == w * c && s[0] == h * w * c;
    }
}
