using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MaskLab.Models;

/// <summary>Size of one MLP-Mixer variant (Tolstikhin et al. 2021, table 1).</summary>
internal sealed record MixerConfig(string Name, int EmbedDim, int Depth, double TokenRatio = 0.5, double ChannelRatio = 4.0)
{
    public static readonly MixerConfig S16 = new("mixer_s16", 512, 8);
    public static readonly MixerConfig B16 = new("mixer_b16", 768, 12);
}

/// <summary>
/// MLP-Mixer with 16x16 patches: each block mixes across tokens (an MLP over the patch axis, shared by channels),
/// then across channels (an MLP per token), both pre-norm with residuals; global average pooling, linear head.
/// The token-mixing MLP is sized by the patch count, so the model is built for one input size (sides multiples
/// of 16) and a timm checkpoint loads only at the size it was trained at (224x224 for the reference weights).
/// Names follow timm (<c>stem.proj</c>, <c>blocks.{i}.mlp_tokens.fc1</c>, <c>head</c>).
/// </summary>
internal sealed class MlpMixer : Module<Tensor, Tensor>, IFeatureModel
{
    readonly VisionTransformer.PatchEmbed stem;
    readonly ModuleList<MixerBlock> blocks;
    readonly LayerNorm norm;
    readonly Linear head;
    readonly long _tokens;

    public long NumFeatures { get; }

    public MlpMixer(MixerConfig config, ModelSpec spec) : base(config.Name)
    {
        VisionTransformer.CheckPatchGrid(config.Name, spec);
        var dim = config.EmbedDim;
        NumFeatures = dim;
        _tokens = (long)(spec.Width / VisionTransformer.Patch) * (spec.Height / VisionTransformer.Patch);
        stem = new VisionTransformer.PatchEmbed(dim);
        var list = new MixerBlock[config.Depth];
        for (var i = 0; i < config.Depth; i++)
            list[i] = new MixerBlock(dim, _tokens, (long)(dim * config.TokenRatio), (long)(dim * config.ChannelRatio));
        blocks = ModuleList(list);
        norm = LayerNorm(dim, eps: 1e-6);
        head = Linear(dim, spec.NumClasses);
        RegisterComponents();
        InitWeights();
    }

    /// <summary>
    /// timm's (non-flax) initialisation: Xavier-uniform MLP weights with near-zero biases, LeCun-normal patch
    /// projection, and a zero head so the first logits are uniform.
    /// </summary>
    void InitWeights()
    {
        using var _ = no_grad();
        foreach (var (name, m) in named_modules())
        {
            switch (m)
            {
                case Linear linear when name == nameof(head):
                    init.zeros_(linear.weight);
                    init.zeros_(linear.bias);
                    break;
                case Linear linear:
                    init.xavier_uniform_(linear.weight);
                    init.normal_(linear.bias, std: 1e-6);
                    break;
                case Conv2d conv:
                    // LeCun normal truncated at two standard deviations; 0.8796 is the std of a unit normal
                    // truncated to +-2, so the truncated draw has variance 1 / fan_in.
                    var fanIn = conv.weight.shape[1] * conv.weight.shape[2] * conv.weight.shape[3];
                    var std = Math.Sqrt(1.0 / fanIn) / 0.87962566103423978;
                    ModelParts.TruncatedNormal(conv.weight, std, -2 * std, 2 * std);
                    if (conv.bias is not null) init.zeros_(conv.bias);
                    break;
            }
        }
    }

    public Tensor forward_features(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = stem.call(x);
        if (x.shape[1] != _tokens)
            throw new ArgumentException(
                $"{GetName()}: built for {_tokens} patches, the input gives {x.shape[1]}; build it for this size");
        foreach (var block in blocks) x = block.call(x);
        return norm.call(x).mean([1]).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return head.call(forward_features(x)).MoveToOuterDisposeScope();
    }

    internal sealed class MixerBlock : Module<Tensor, Tensor>
    {
        readonly LayerNorm norm1, norm2;
        readonly Mlp mlp_tokens, mlp_channels;

        public MixerBlock(long dim, long tokens, long tokenHidden, long channelHidden) : base("MixerBlock")
        {
            norm1 = LayerNorm(dim, eps: 1e-6);
            mlp_tokens = new Mlp(tokens, tokenHidden);
            norm2 = LayerNorm(dim, eps: 1e-6);
            mlp_channels = new Mlp(dim, channelHidden);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            x = x + mlp_tokens.call(norm1.call(x).transpose(1, 2)).transpose(1, 2);
            x = x + mlp_channels.call(norm2.call(x));
            return x.MoveToOuterDisposeScope();
        }
    }
}
