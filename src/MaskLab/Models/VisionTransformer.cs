using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MaskLab.Models;

/// <summary>Size of one ViT variant (Dosovitskiy et al. 2020; the tiny / small widths of Touvron et al. 2021).</summary>
internal sealed record VitConfig(string Name, int EmbedDim, int Depth, int Heads, double MlpRatio = 4.0)
{
    public static readonly VitConfig Tiny16 = new("vit_tiny_patch16", 192, 12, 3);
    public static readonly VitConfig Small16 = new("vit_small_patch16", 384, 12, 6);
}

/// <summary>
/// Vision Transformer with 16x16 patches: class token, learned position embedding, pre-norm blocks
/// (LayerNorm, multi-head self-attention, LayerNorm, GELU MLP), classification from the class token.
/// The position embedding is stored for the 14x14 grid of a 224x224 input, as timm stores it, so timm state_dicts
/// load unchanged; inputs of other sizes (sides multiples of 16) get it interpolated bicubically to their grid
/// in each forward, which keeps it trainable at the stored size.
/// </summary>
internal sealed class VisionTransformer : Module<Tensor, Tensor>, IFeatureModel, IWeightMapping
{
    public const int Patch = 16;
    const int ReferenceGrid = 224 / Patch;

    readonly Parameter cls_token;
    readonly Parameter pos_embed;
    readonly PatchEmbed patch_embed;
    readonly ModuleList<TransformerBlock> blocks;
    readonly LayerNorm norm;
    readonly Linear head;

    public long NumFeatures { get; }

    public VisionTransformer(VitConfig config, ModelSpec spec, double dropPath = 0.0) : base(config.Name)
    {
        CheckPatchGrid(config.Name, spec);
        var dim = config.EmbedDim;
        NumFeatures = dim;
        patch_embed = new PatchEmbed(dim);
        cls_token = new Parameter(zeros(1, 1, dim));
        pos_embed = new Parameter(zeros(1, 1 + ReferenceGrid * ReferenceGrid, dim));
        var list = new TransformerBlock[config.Depth];
        for (var i = 0; i < config.Depth; i++)
            list[i] = new TransformerBlock(dim, config.Heads, config.MlpRatio, dropPath * i / Math.Max(1, config.Depth - 1));
        blocks = ModuleList(list);
        norm = LayerNorm(dim, eps: 1e-6);
        head = Linear(dim, spec.NumClasses);
        RegisterComponents();
        InitWeights();
    }

    /// <summary>ViT and Mixer cut the image into 16x16 patches with nothing left over.</summary>
    internal static void CheckPatchGrid(string model, ModelSpec spec)
    {
        if (spec.Width <= 0 || spec.Height <= 0 || spec.Width % Patch != 0 || spec.Height % Patch != 0)
            throw new MaskLabInputException(
                $"model '{model}' needs an image size whose sides are multiples of {Patch}, got {spec.Width}x{spec.Height}");
    }

    void InitWeights()
    {
        using var _ = no_grad();
        ModelParts.TruncatedNormal(pos_embed, std: 0.02);
        init.normal_(cls_token, std: 1e-6);
        foreach (var (_, m) in named_modules())
        {
            if (m is Linear linear)
            {
                ModelParts.TruncatedNormal(linear.weight, std: 0.02);
                if (linear.bias is not null) init.zeros_(linear.bias);
            }
        }
    }

    /// <summary>The position embedding of the patch tokens resampled to a gh x gw grid (class token kept as is).</summary>
    internal Tensor PositionEmbedding(long gh, long gw)
    {
        if (gh == ReferenceGrid && gw == ReferenceGrid) return pos_embed;
        using var scope = NewDisposeScope();
        var dim = pos_embed.shape[2];
        var cls = pos_embed.narrow(1, 0, 1);
        var grid = pos_embed.narrow(1, 1, ReferenceGrid * ReferenceGrid)
            .reshape(1, ReferenceGrid, ReferenceGrid, dim).permute(0, 3, 1, 2);
        grid = functional.interpolate(grid, [gh, gw], mode: InterpolationMode.Bicubic, align_corners: false);
        grid = grid.permute(0, 2, 3, 1).reshape(1, gh * gw, dim);
        return cat([cls, grid], 1).MoveToOuterDisposeScope();
    }

    public Tensor forward_features(Tensor x)
    {
        using var scope = NewDisposeScope();
        var (h, w) = (x.shape[2], x.shape[3]);
        if (h % Patch != 0 || w % Patch != 0)
            throw new ArgumentException($"{GetName()}: input {w}x{h} is not a multiple of {Patch} on each side");
        x = patch_embed.call(x);                                   // [N, gh*gw, D]
        var cls = cls_token.expand(x.shape[0], -1, -1);
        x = cat([cls, x], 1) + PositionEmbedding(h / Patch, w / Patch);
        foreach (var block in blocks) x = block.call(x);
        x = norm.call(x);
        return x.select(1, 0).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return head.call(forward_features(x)).MoveToOuterDisposeScope();
    }

    /// <summary>A checkpoint trained at another size carries another grid: resample it to the stored 14x14 one.</summary>
    public Tensor Adapt(string key, Tensor value, Tensor target)
    {
        if (key != nameof(pos_embed) || value.dim() != 3 || value.shape.SequenceEqual(target.shape)) return value;
        var tokens = value.shape[1] - 1;
        var side = (long)Math.Round(Math.Sqrt(tokens));
        if (side * side != tokens || value.shape[2] != target.shape[2]) return value;
        using var scope = NewDisposeScope();
        var dim = value.shape[2];
        var grid = value.narrow(1, 1, tokens).reshape(1, side, side, dim).permute(0, 3, 1, 2).to(float32);
        grid = functional.interpolate(grid, [ReferenceGrid, ReferenceGrid], mode: InterpolationMode.Bicubic, align_corners: false);
        grid = grid.permute(0, 2, 3, 1).reshape(1, ReferenceGrid * ReferenceGrid, dim);
        return cat([value.narrow(1, 0, 1).to(float32), grid], 1).MoveToOuterDisposeScope();
    }

    /// <summary>Non-overlapping 16x16 patches projected to D channels, as tokens.</summary>
    internal sealed class PatchEmbed : Module<Tensor, Tensor>
    {
        readonly Conv2d proj;

        public PatchEmbed(long dim) : base("PatchEmbed")
        {
            proj = Conv2d(3, dim, Patch, stride: Patch);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var y = proj.call(x);
            return y.flatten(2).transpose(1, 2);
        }
    }

    internal sealed class TransformerBlock : Module<Tensor, Tensor>
    {
        readonly LayerNorm norm1, norm2;
        readonly Attention attn;
        readonly Mlp mlp;
        readonly double _dropPath;

        public TransformerBlock(long dim, int heads, double mlpRatio, double dropPath) : base("Block")
        {
            norm1 = LayerNorm(dim, eps: 1e-6);
            attn = new Attention(dim, heads);
            norm2 = LayerNorm(dim, eps: 1e-6);
            mlp = new Mlp(dim, (long)(dim * mlpRatio));
            _dropPath = dropPath;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            x = x + Drop(attn.call(norm1.call(x)));
            x = x + Drop(mlp.call(norm2.call(x)));
            return x.MoveToOuterDisposeScope();
        }

        Tensor Drop(Tensor y) => training && _dropPath > 0 ? DropPath.Apply(y, _dropPath) : y;
    }

    /// <summary>Multi-head self-attention with one fused qkv projection laid out as timm's ([q; k; v], heads inside each).</summary>
    internal sealed class Attention : Module<Tensor, Tensor>, IExtraMacs
    {
        readonly Linear qkv, proj;
        readonly int _heads;

        public int Heads => _heads;

        public Attention(long dim, int heads) : base("Attention")
        {
            _heads = heads;
            qkv = Linear(dim, dim * 3);
            proj = Linear(dim, dim);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var (n, t, c) = (x.shape[0], x.shape[1], x.shape[2]);
            var parts = qkv.call(x).reshape(n, t, 3, _heads, c / _heads).permute(2, 0, 3, 1, 4).unbind(0);
            var y = functional.scaled_dot_product_attention(parts[0], parts[1], parts[2]);
            y = y.transpose(1, 2).reshape(n, t, c);
            return proj.call(y).MoveToOuterDisposeScope();
        }

        /// <summary>q·kᵀ and attention·v: two T x T x C products per sample, which no Linear / Conv hook sees.</summary>
        public long ExtraMacs(Tensor input) => 2 * input.shape[0] * input.shape[1] * input.shape[1] * input.shape[2];
    }
}

/// <summary>Two-layer GELU MLP, named as timm's (<c>fc1</c>, <c>fc2</c>).</summary>
internal sealed class Mlp : Module<Tensor, Tensor>
{
    readonly Linear fc1, fc2;

    public Mlp(long dim, long hidden) : base("Mlp")
    {
        fc1 = Linear(dim, hidden);
        fc2 = Linear(hidden, dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc2.call(functional.gelu(fc1.call(x))).MoveToOuterDisposeScope();
    }
}

/// <summary>A module whose forward does multiply-adds outside any Linear or Conv2d (see <see cref="ModelStats"/>).</summary>
internal interface IExtraMacs
{
    long ExtraMacs(Tensor input);
}
