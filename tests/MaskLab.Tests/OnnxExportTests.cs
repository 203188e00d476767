using System.Text.Json.Nodes;
using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Export;
using Onnx;
using TorchSharp;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MaskLab.Tests;

public sealed class OnnxExportTests : IDisposable
{
    readonly TempDir _temp = new();
    readonly string _dir;
    readonly ITestOutputHelper _output;

    public OnnxExportTests(ITestOutputHelper output)
    {
        NativeSetup.Initialize();
        _output = output;
        _dir = _temp.Path;
    }

    public void Dispose() => _temp.Dispose();

    // One model per family at a small size that is not square (a swapped width / height shows). The others are
    // built from the same module types as a sibling tested here (see CoveredBy).
    public static TheoryData<string, int, int> Families() => new()
    {
        { "baseline", 32, 48 },
        { "resnet18", 32, 48 },
        { "resnet50", 32, 48 },
        // Odd sides, so that its SAME_LOWER padding is 1 / 1 at some stride-2 layers and 1 / 0 at others.
        { "resnet18_mlnet", 35, 49 },
        { "vgg11_bn", 32, 32 },
        { "googlenet", 32, 48 },
        { "mobilenet_v3_small", 32, 48 },
        { "efficientnet_b0", 32, 48 },
        { "vit_tiny_patch16", 32, 48 },
        { "mixer_s16", 32, 48 },
    };

    static readonly Dictionary<string, string> CoveredBy = new()
    {
        ["resnet34"] = "resnet18",             // more BasicBlocks
        ["resnext50_32x4d"] = "resnet50",      // Bottlenecks whose 32-group convolutions take the Conv converter's group attribute, as the depthwise ones do
        ["vgg11"] = "vgg11_bn",                // the same layers less BatchNorm
        ["vgg16"] = "vgg11_bn",
        ["vgg16_bn"] = "vgg11_bn",
        ["mobilenet_v3_large"] = "mobilenet_v3_small", // the same inverted residuals, with and without squeeze-excitation, ReLU and hardswish
        ["efficientnet_b1"] = "efficientnet_b0",       // more and wider MBConv blocks
        ["efficientnet_b2"] = "efficientnet_b0",
        ["efficientnet_b3"] = "efficientnet_b0",
        ["vit_small_patch16"] = "vit_tiny_patch16",    // wider, more heads
        ["mixer_b16"] = "mixer_s16",                   // wider, deeper
    };

    [Fact]
    public void Every_registered_model_is_tested_here_or_by_a_sibling_of_the_same_module_types()
    {
        var tested = Families().Select(row => (string)row[0]).ToHashSet();
        Assert.All(CoveredBy.Values, sibling => Assert.Contains(sibling, tested));
        Assert.Equal(ModelRegistry.Names.Order(), tested.Concat(CoveredBy.Keys).Order());
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Onnx_runtime_gives_the_probabilities_torchsharp_gives(string name, int width, int height)
    {
        var spec = new ExportSpec(width, height, TaskClasses.Count);
        using var model = ModelRegistry.Create(name, new ModelSpec(spec.NumClasses, width, height));
        var check = ExportAndCheck(model, name, spec);

        Assert.True(check.MaxProbabilityDiff <= 1e-4, $"{name}: probabilities differ by {check.MaxProbabilityDiff:g3}");
        Assert.True(check.MaxLogitDiff <= 1e-4 * Math.Max(1, check.MaxAbsLogit), $"{name}: logits differ by {check.MaxLogitDiff:g3}");
        // Logits near zero would give uniform probabilities whatever the graph computed.
        Assert.True(check.MaxAbsLogit > 0.05, $"{name}: logits up to {check.MaxAbsLogit:g3} are too small to compare");
    }

    [Fact]
    public void The_multi_head_exports_its_18_class_product_of_three_softmaxes()
    {
        var spec = new ExportSpec(32, 32, TaskClasses.Count) { Head = ExportHead.Multi };
        using var model = ModelRegistry.Create("baseline", new ModelSpec(spec.Logits, 32, 32));
        var check = ExportAndCheck(model, "baseline", spec);

        Assert.Equal(8, spec.Logits);
        Assert.True(check.MaxProbabilityDiff <= 1e-4, $"probabilities differ by {check.MaxProbabilityDiff:g3}");
        Assert.True(check.MaxLogitDiff <= 1e-4 * Math.Max(1, check.MaxAbsLogit), $"logits differ by {check.MaxLogitDiff:g3}");
    }

    [Theory]
    [InlineData(ExportHead.Single, 30, 60, 0.5)]
    [InlineData(ExportHead.Multi, 30, 58, 0.5)]
    [InlineData(ExportHead.Single, 30, 60, 0.3)]
    public void The_ordinal_age_output_exports_the_band_cut_at_the_age_cuts(ExportHead kind, int lower, int upper, double overThreshold)
    {
        var spec = new ExportSpec(32, 32, TaskClasses.Count) { Head = kind, OrdinalAge = new AgeCuts(lower, upper), AgeOverThreshold = overThreshold };
        using var model = ModelRegistry.Create("baseline", new ModelSpec(spec.Logits, 32, 32));
        var check = ExportAndCheck(model, "baseline", spec);

        Assert.Equal((kind == ExportHead.Multi ? 8 : 18) + 42, spec.Logits);
        Assert.True(check.MaxProbabilityDiff <= 1e-4, $"probabilities differ by {check.MaxProbabilityDiff:g3}");
        Assert.True(check.MaxLogitDiff <= 1e-4 * Math.Max(1, check.MaxAbsLogit), $"logits differ by {check.MaxLogitDiff:g3}");
        Assert.Throws<MaskLabInputException>(() => (spec with { OrdinalAge = new AgeCuts(18, 60) }).Validate());
    }

    [Fact]
    public void Without_normalisation_in_the_graph_it_takes_normalised_input()
    {
        var spec = new ExportSpec(32, 32, TaskClasses.Count) { NormalizationInGraph = false };
        using var model = ModelRegistry.Create("baseline", new ModelSpec(18, 32, 32));
        Perturb(model);
        var file = Path.Combine(_dir, "plain.onnx");
        OnnxExport.Write(model, "baseline", spec, file);

        // Normalised images are spread around zero, not 0..1.
        var check = OnnxExport.Verify(file, model, spec, randn(3, 3, 32, 32, generator: new Generator(5)));
        Assert.True(check.MaxProbabilityDiff <= 1e-4, $"probabilities differ by {check.MaxProbabilityDiff:g3}");

        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(file));
        Assert.Equal("Conv", proto.Graph.Node[0].OpType);
        Assert.StartsWith("caller", Meta(proto)["normalization"]);
    }

    [Fact]
    public void The_file_says_what_to_feed_it_and_holds_the_weights_by_state_dict_name()
    {
        var spec = new ExportSpec(32, 48, TaskClasses.Count) { Normalization = ImageNormalization.ImageNet };
        using var model = ModelRegistry.Create("resnet18", new ModelSpec(18, 32, 48));
        var file = Path.Combine(_dir, "sub", "resnet18.onnx");
        var result = OnnxExport.Write(model, "resnet18", spec, file);
        _output.WriteLine($"resnet18: {result.Bytes} bytes, {result.Nodes} nodes, {result.Parameters} numbers in weights");

        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(file));
        Assert.Equal(result.Bytes, new FileInfo(file).Length);
        Assert.Equal(ExportSpec.Opset, proto.OpsetImport.Single(o => o.Domain == "").Version);
        var meta = Meta(proto);
        Assert.Equal("resnet18", meta["model"]);
        Assert.Equal("RGB", meta["channel_order"]);
        Assert.Equal("NCHW", meta["input_layout"]);
        Assert.Equal("0.485,0.456,0.406", meta["mean"]);
        Assert.Equal("0.229,0.224,0.225", meta["std"]);
        Assert.Equal("batch,3,48,32", meta["input_shape"]);
        Assert.StartsWith("in_graph", meta["normalization"]);
        Assert.Equal(["Sub", "Div"], proto.Graph.Node.Take(2).Select(n => n.OpType));

        var input = proto.Graph.Input.Single();
        Assert.Equal(OnnxExport.InputName, input.Name);
        var dims = input.Type.TensorType.Shape.Dim;
        Assert.Equal("batch", dims[0].DimParam);
        Assert.Equal(new long[] { 3, 48, 32 }, dims.Skip(1).Select(d => d.DimValue));
        Assert.Equal([OnnxExport.LogitsName, OnnxExport.ProbabilitiesName], proto.Graph.Output.Select(o => o.Name));

        // Every parameter and batch-norm statistic is an initializer under its state_dict key, with its shape.
        var initializers = proto.Graph.Initializer.ToDictionary(t => t.Name);
        foreach (var (key, tensor) in model.state_dict())
        {
            if (key.EndsWith("num_batches_tracked", StringComparison.Ordinal)) continue;
            Assert.True(initializers.TryGetValue(key, out var t), $"no initializer '{key}'");
            Assert.Equal(tensor.shape, t!.Dims.ToArray());
        }
        Assert.Equal(ModelStats.Parameters(model), result.Parameters - model.named_buffers()
            .Where(b => !b.name.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Sum(b => b.buffer.numel()));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(file)!, "*.tmp"));
    }

    sealed class Doubler : nn.Module<Tensor, Tensor>
    {
        public Doubler() : base(nameof(Doubler)) { }

        public override Tensor forward(Tensor x) => x * 2;
    }

    [Fact]
    public void A_module_without_a_converter_is_refused_in_one_line_naming_it()
    {
        var spec = new ExportSpec(32, 32, 18);
        using var model = nn.Sequential(
            ("conv", nn.Conv2d(3, 8, 3)), ("odd", new Doubler()), ("pool", nn.AdaptiveAvgPool2d(1)),
            ("flatten", nn.Flatten()), ("fc", nn.Linear(8, 18)));
        var file = Path.Combine(_dir, "odd.onnx");

        var e = Assert.Throws<MaskLabInputException>(() => OnnxExport.Write(model, "custom", spec, file));

        _output.WriteLine(e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("'odd'", e.Message);
        Assert.Contains(nameof(Doubler), e.Message);
        Assert.Contains("no ONNX converter", e.Message);
        Assert.False(File.Exists(file));
    }

    [Fact]
    public void A_module_with_a_forward_hook_is_refused()
    {
        var spec = new ExportSpec(32, 32, 18);
        using var model = new BaseModel(18);
        var conv = (Conv2d)model.named_modules().Single(m => m.name == "conv2").module;
        conv.register_forward_hook((_, _, y) => y * 2);

        var e = Assert.Throws<MaskLabInputException>(() => OnnxExport.Build(model, "baseline", spec));

        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("'conv2'", e.Message);
        Assert.Contains("hooks", e.Message);
    }

    [Fact]
    public void A_model_or_spec_that_do_not_fit_each_other_are_refused_in_one_line()
    {
        using var model = new BaseModel(10);
        var e = Assert.Throws<MaskLabInputException>(() => OnnxExport.Build(model, "baseline", new ExportSpec(32, 32, 18)));
        Assert.Contains("18", e.Message);
        Assert.Throws<MaskLabInputException>(() => new ExportSpec(32, 32, 10) { Head = ExportHead.Multi }.Validate());
        Assert.Throws<MaskLabInputException>(() => new ExportSpec(0, 32, 18).Validate());

        using var gray = new BaseModel(18);
        var e2 = Assert.Throws<MaskLabInputException>(() =>
            OnnxExport.Build(gray, "baseline", new ExportSpec(32, 32, 18) { Channels = 1, NormalizationInGraph = false }));
        Assert.Contains("[batch, 1, 32, 32]", e2.Message);
        Assert.DoesNotContain('\n', e2.Message);
    }

    [Fact]
    public void A_file_onnx_runtime_cannot_read_is_a_one_line_error()
    {
        var spec = new ExportSpec(32, 32, 18);
        using var model = new BaseModel(18);
        var file = Path.Combine(_dir, "broken.onnx");
        File.WriteAllText(file, "not a model");

        var e = Assert.Throws<MaskLabInputException>(() => OnnxExport.Verify(file, model, spec, OnnxExport.RandomImages(spec, 1, 1)));

        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains(file, e.Message);
    }

    OnnxCheck ExportAndCheck(nn.Module<Tensor, Tensor> model, string name, ExportSpec spec)
    {
        Perturb(model);
        var images = OnnxExport.RandomImages(spec, 3, seed: 11);
        ScaleLogits(model, spec, images, target: 3);
        var file = Path.Combine(_dir, name + ".onnx");
        var result = OnnxExport.Write(model, name, spec, file);
        // The reference runs in float64: libtorch's fp32 convolutions go through oneDNN, which on some AVX-512 CPUs
        // (the AMD EPYC here) computes dense convolutions with 17-31, 33-47, ... input channels wrongly (googlenet has
        // them; ConvolutionCheck), while its float64 kernels are its own.
        using var reference = ModelRegistry.Create(name, new ModelSpec(spec.Logits, spec.Width, spec.Height));
        reference.load_state_dict(model.state_dict());
        reference.to(ScalarType.Float64);
        var check = OnnxExport.Verify(file, reference, spec, images);
        _output.WriteLine($"{name} {spec.Width}x{spec.Height} {spec.Head}: {result.Bytes} bytes, {result.Nodes} nodes; " +
            $"max |dp| {check.MaxProbabilityDiff:g3}, max |dlogit| {check.MaxLogitDiff:g3} of max |logit| {check.MaxAbsLogit:g3}");
        return check;
    }

    /// <summary>
    /// Moves the values a fresh model leaves at 0 or 1 (biases, batch-norm statistics and scales, layer-norm
    /// scales, the class token, a zero head) off them, so that a converter that swapped or dropped one would show.
    /// </summary>
    internal static void Perturb(nn.Module model)
    {
        using var _ = no_grad();
        var g = new Generator(3);
        foreach (var (_, m) in model.named_modules())
        {
            if (m is BatchNorm2d bn)
            {
                bn.running_mean!.copy_(randn(bn.running_mean.shape, generator: g) * 0.1);
                bn.running_var!.copy_(rand(bn.running_var.shape, generator: g) * 0.5 + 0.75);
            }
            foreach (var (name, p) in m.named_parameters(recurse: false))
            {
                var zero = p.abs().max().item<float>() == 0;
                if (m is BatchNorm2d or LayerNorm && name == "weight") p.copy_(rand(p.shape, generator: g) * 0.5 + 0.75);
                else if (name is "bias" or "cls_token" || zero) p.copy_(randn(p.shape, generator: g) * 0.05);
            }
        }
    }

    /// <summary>
    /// Scales the classifier so the largest logit on <paramref name="images"/> is about <paramref name="target"/>:
    /// saturated probabilities (0 and 1) would agree whatever the graph computed, uniform ones too.
    /// </summary>
    static void ScaleLogits(nn.Module<Tensor, Tensor> model, ExportSpec spec, Tensor images, double target)
    {
        var (_, classifier) = ModelParts.FindClassifier(model, spec.Logits) ?? throw new InvalidOperationException("no classifier");
        using var _ = no_grad();
        model.eval();
        var n = spec.Normalization;
        var x = (images - tensor(new[] { n.MeanR, n.MeanG, n.MeanB }).view(1, 3, 1, 1)) / tensor(new[] { n.StdR, n.StdG, n.StdB }).view(1, 3, 1, 1);
        var scale = target / model.call(x).abs().max().item<float>();
        classifier.weight.mul_(scale);
        classifier.bias?.mul_(scale);
    }

    static Dictionary<string, string> Meta(ModelProto proto) => proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
}

[Collection(CliConsoleCollection.Name)]
public sealed class ExportCommandTests
{
    public ExportCommandTests() => NativeSetup.Initialize();

    [Fact]
    public void Export_writes_the_checkpoint_weights_and_checks_them_in_onnx_runtime()
    {
        using var temp = new TempDir();
        using var model = new BaseModel(18);
        OnnxExportTests.Perturb(model);
        var checkpoint = temp.Combine("best.ckpt");
        Checkpoint.Save(checkpoint, model, null, new TrainingState(1, 0, 1, 0, 0, 0, Checkpoint.RngState()));
        var file = temp.Combine("model.onnx");

        var r = CliHarness.Run("export", "--model", "baseline", "--checkpoint", checkpoint, "--size", "32x48", "--out", file, "--json");

        Assert.True(r.ExitCode == 0, r.Stderr);
        var json = JsonNode.Parse(r.LastStdoutLine)!;
        Assert.Equal(ExportSpec.Opset, (int)json["opset"]!);
        Assert.True((double)json["max_probability_diff"]! <= OnnxExport.Tolerance);
        var bias = ModelProto.Parser.ParseFrom(File.ReadAllBytes(file)).Graph.Initializer.Single(t => t.Name == "fc.bias");
        var saved = model.named_parameters().Single(p => p.name == "fc.bias").parameter.data<float>().ToArray();
        Assert.Equal(saved, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bias.RawData.Span).ToArray());
    }

    /// <summary>Trains a one-epoch run on the tiny set (embedded weights where the model has them).</summary>
    static string TinyRun(params string[] overrides)
    {
        var dir = Path.Combine(Directory.CreateTempSubdirectory("masklab-export-run-").FullName, "run");
        var config = RunConfig.Load(null, new[] { $"data={TinySynthetic.Root}", "image_size=32x24", "epochs=1", "batch_size=16",
            "warmup_epochs=0", "seed=2", "threads=2" }.Concat(overrides)).Validate();
        new RunJob(config, new RunDirectory(dir)).Run(CancellationToken.None, end: new RunEnd(Predict: false, Report: false));
        return dir;
    }

    [Theory]
    [InlineData("model=baseline", "head=single")]
    [InlineData("model=resnet18_mlnet", "head=multi")]   // the ImageNet mean image and the multi head, in the graph
    public void A_run_exports_and_onnx_runtime_gives_its_probabilities_on_the_eval_photos(string model, string head)
    {
        var run = TinyRun(model, head);
        var file = Path.Combine(Path.GetDirectoryName(run)!, "model.onnx");
        var r = CliHarness.Run("export", "--run", run, "--out", file, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var json = JsonNode.Parse(r.LastStdoutLine)!;
        Assert.Equal(TinySynthetic.Options.EvalPeople * 7, (int)json["photos"]!);
        Assert.True((double)json["max_probability_diff"]! <= OnnxExport.Tolerance, r.Stdout);
        var meta = ModelProto.Parser.ParseFrom(File.ReadAllBytes(file)).MetadataProps.ToDictionary(m => m.Key, m => m.Value);
        Assert.Equal("32", meta["image_width"]);
        Assert.Equal(head == "head=multi" ? "multi" : "single", meta["head"]);
        if (model == "model=resnet18_mlnet") Assert.Contains("mean image", meta["normalization"]);
    }

    [Fact]
    public void Export_refuses_a_bad_head_in_one_line()
    {
        var r = CliHarness.Run("export", "--model", "baseline", "--size", "32x32", "--out", "x.onnx", "--head", "triple");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--head", r.Stderr);
        Assert.False(File.Exists("x.onnx"));
    }
}
