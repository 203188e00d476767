using Google.Protobuf;
using MaskLab.Data.Faces;
using MaskLab.Data.Loading;
using MaskLab.Models;
using MaskLab.Platform;
using MaskLab.Synthetic;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MaskLab.Tests;

/// <summary>
/// The shipped weights converted once into a temporary cache, and three synthetic portraits at 225x225, shared
/// by the tests of <see cref="MlNetResNet18Tests"/>.
/// </summary>
public sealed class MlNetResNet18Fixture : IDisposable
{
    public TempDir Dir { get; } = new();

    public string CacheRoot => Dir.Combine("home");

    public WeightCacheResult FirstConversion { get; }

    /// <summary>Three synthetic 225x225 portraits (JPEG).</summary>
    public IReadOnlyList<string> PhotoFiles { get; }

    /// <summary>RGB bytes (HWC) of the portraits decoded to 224x224.</summary>
    public IReadOnlyList<byte[]> Photos224 { get; }

    public MlNetResNet18Fixture()
    {
        NativeSetup.Initialize();
        FirstConversion = MlNetResNet18Weights.Shipped.EnsureConverted(CacheRoot);
        var data = Dir.Combine("synth");
        SyntheticGenerator.Generate(data, new SynthOptions(People: 1, EvalPeople: 0, Width: 225, Height: 225, Seed: 7, AppleDoubleJunk: false));
        PhotoFiles = Directory.EnumerateFiles(Path.Combine(data, "train", "images"), "*", SearchOption.AllDirectories)
            .Where(f => !Path.GetFileName(f).StartsWith('.'))
            .Order(StringComparer.Ordinal)
            .Take(3)
            .ToList();
        Photos224 = PhotoFiles.Select(p => ImageDecoder.Decode(p, 224, 224)).ToList();
    }

    public void Dispose() => Dir.Dispose();
}

public sealed class MlNetResNet18Tests : IClassFixture<MlNetResNet18Fixture>
{
    const double Tolerance = 1e-4;
    readonly MlNetResNet18Fixture _f;
    readonly ITestOutputHelper _out;
    static readonly MlNetResNet18Weights Weights = MlNetResNet18Weights.Shipped;

    public MlNetResNet18Tests(MlNetResNet18Fixture fixture, ITestOutputHelper output)
    {
        NativeSetup.Initialize();
        _f = fixture;
        _out = output;
    }

    /// <summary>A [N, 3, H, W] batch of RGB in 0..1 from HWC bytes, as the loader makes with no normalisation.</summary>
    static Tensor Batch(IReadOnlyList<byte[]> photos, int size) => Batch(photos, size, size);

    static Tensor Batch(IReadOnlyList<byte[]> photos, int width, int height)
    {
        var x = zeros(photos.Count, 3, height, width);
        var buffer = new float[3 * width * height];
        for (var i = 0; i < photos.Count; i++)
        {
            Augmentation.Normalize(photos[i], width, height, buffer, InputNormalization.LoaderPassThrough);
            x[i].copy_(tensor(buffer, [3, height, width]));
        }
        return x;
    }

    static float[] Ort(InferenceSession session, float[] input, long[] shape)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var options = new RunOptions();
        using var outputs = session.Run(options, [session.InputNames[0]], [value], [session.OutputNames[0]]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    static InferenceSession Session(string file) => new(file, new SessionOptions { IntraOpNumThreads = 2 });

    /// <summary>
    /// The ResNet graph for a [batch, 3, height, width] input: its 7x7 average pool made global (as the model's
    /// is) and, with <paramref name="sameLower"/>, the fixed pads of its stride-2 windows replaced by
    /// auto_pad SAME_LOWER, the rule those pads come from, so that ONNX Runtime pads odd sides by itself.
    /// </summary>
    static InferenceSession SessionAt(string file, long batch, long height, long width, bool sameLower)
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(file));
        var graph = model.Graph;
        var dims = graph.Input[0].Type.TensorType.Shape.Dim;
        (dims[0].DimValue, dims[2].DimValue, dims[3].DimValue) = (batch, height, width);
        graph.Output[0].Type.TensorType.Shape.Dim[0].DimValue = batch;
        // The export records every intermediate shape for 1x3x224x224; without them ONNX Runtime infers its own.
        graph.ValueInfo.Clear();
        foreach (var node in graph.Node)
        {
            if (node.OpType == "AveragePool")
            {
                node.OpType = "GlobalAveragePool";
                node.Attribute.Clear();
            }
            var strides = node.Attribute.FirstOrDefault(a => a.Name == "strides");
            var kernel = node.Attribute.FirstOrDefault(a => a.Name == "kernel_shape");
            if (!sameLower || strides is null || kernel is null || strides.Ints[0] != 2 || kernel.Ints[0] == 1) continue;
            var keep = node.Attribute.Where(a => a.Name is not ("pads" or "auto_pad")).ToList();
            node.Attribute.Clear();
            node.Attribute.AddRange(keep);
            node.Attribute.Add(new AttributeProto
            {
                Name = "auto_pad", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("SAME_LOWER"),
            });
        }
        return new InferenceSession(model.ToByteArray(), new SessionOptions { IntraOpNumThreads = 2 });
    }

    MlNetResNet18 Pretrained(int classes = 18)
    {
        var model = new MlNetResNet18(classes);
        Weights.LoadInto(model, classes, _f.CacheRoot);
        model.eval();
        return model;
    }

    static float[] Features(MlNetResNet18 model, Tensor input)
    {
        using var _ = no_grad();
        using var features = model.forward_features(input);
        return features.data<float>().ToArray();
    }

    /// <summary>Largest difference over the largest reference value, per image (pooled features can be exactly 0).</summary>
    static double RelativeError(float[] ours, float[] reference, int images)
    {
        var per = reference.Length / images;
        double worst = 0;
        for (var i = 0; i < images; i++)
        {
            double diff = 0, scale = 0;
            for (var j = i * per; j < (i + 1) * per; j++)
            {
                diff = Math.Max(diff, Math.Abs(ours[j] - reference[j]));
                scale = Math.Max(scale, Math.Abs(reference[j]));
            }
            worst = Math.Max(worst, diff / scale);
        }
        return worst;
    }

    /// <summary>The package's own pipeline: preprocessing graph, then the ResNet graph, one 224x224 image at a time.</summary>
    float[] OnnxFeatures224()
    {
        using var prep = Session(Weights.SourceFile(MlNetResNet18Weights.PreprocessFileName));
        using var net = Session(Weights.SourceFile(MlNetResNet18Weights.WeightsFileName));
        var result = new List<float>();
        foreach (var photo in _f.Photos224)
        {
            // The graph's input: RGB planes in 0..255, what ML.NET's ExtractPixels gives.
            var planes = new float[3 * 224 * 224];
            for (var p = 0; p < 224 * 224; p++)
                for (var c = 0; c < 3; c++)
                    planes[c * 224 * 224 + p] = photo[p * 3 + c];
            var prepared = Ort(prep, planes, [1, 3, 224, 224]);
            result.AddRange(Ort(net, prepared, [1, 3, 224, 224]));
        }
        return result.ToArray();
    }

    [Fact]
    public void The_converted_model_gives_the_features_of_onnx_runtime_running_the_packages_two_graphs()
    {
        using var scope = NewDisposeScope();
        var reference = OnnxFeatures224();
        using var model = Pretrained();
        var ours = Features(model, Weights.Normalization.Apply(Batch(_f.Photos224, 224)));

        Assert.Equal(3 * 512, reference.Length);
        Assert.True(reference.Max() > 0.1f, "the reference features are all near zero, so the comparison says nothing");
        var error = RelativeError(ours, reference, 3);
        _out.WriteLine($"224x224, 3 portraits: max relative error {error:E2}");
        Assert.True(error <= Tolerance, $"max relative error {error:E2} > {Tolerance:E0}");

        // One weight of 2.4 million in layer 3 moved: the same comparison must fail.
        using (no_grad())
        {
            var weight = model.named_parameters().Single(p => p.name == "layer3.1.conv2.weight").parameter;
            weight[0, 0, 1, 1].add_(0.5f);
        }
        var perturbed = RelativeError(Features(model, Weights.Normalization.Apply(Batch(_f.Photos224, 224))), reference, 3);
        _out.WriteLine($"one weight moved by 0.5: max relative error {perturbed:E2}");
        Assert.True(perturbed > Tolerance, $"a perturbed weight still matched (error {perturbed:E2})");
    }

    [Theory]
    [InlineData(96, 128, false)]   // the task's default size: even sides all the way, so the file's own pads
    [InlineData(225, 225, true)]   // odd input: 113, 57, 29, 15, 8 pixels (the file's pads would give 112, 56, ...)
    [InlineData(65, 63, true)]     // odd sides inside the blocks, where the file's fixed pads cannot add the shortcut
    public void The_padding_matches_onnx_runtime_at_other_sizes(int height, int width, bool sameLower)
    {
        using var scope = NewDisposeScope();
        var photos = _f.PhotoFiles.Select(p => ImageDecoder.Decode(p, width, height)).ToList();
        var input = Weights.Normalization.Apply(Batch(photos, width, height));
        using var net = SessionAt(Weights.SourceFile(MlNetResNet18Weights.WeightsFileName), 3, height, width, sameLower);
        // The graph reads BGR; the model reads RGB.
        var reference = Ort(net, input.flip(1).contiguous().data<float>().ToArray(), [3, 3, height, width]);
        using var model = Pretrained();
        var error = RelativeError(Features(model, input), reference, 3);
        _out.WriteLine($"{width}x{height}, 3 portraits: max relative error {error:E2}");
        Assert.True(error <= Tolerance, $"max relative error {error:E2} > {Tolerance:E0}");
    }

    [Fact]
    public void The_normalisation_read_from_the_file_equals_the_preprocessing_graph_with_channels_in_rgb_order()
    {
        using var scope = NewDisposeScope();
        using var prep = Session(Weights.SourceFile(MlNetResNet18Weights.PreprocessFileName));
        var photo = _f.Photos224[0];
        var planes = new float[3 * 224 * 224];
        for (var p = 0; p < 224 * 224; p++)
            for (var c = 0; c < 3; c++)
                planes[c * 224 * 224 + p] = photo[p * 3 + c];
        var bgr = tensor(Ort(prep, planes, [1, 3, 224, 224]), [1, 3, 224, 224]);
        var ours = Weights.Normalization.Apply(Batch([photo], 224));

        Assert.True(Weights.Normalization.IsPerPixel);
        Assert.Equal(255f, Weights.Normalization.Scale);
        // Bytes / 255 * 255 is not exactly the byte in float32.
        Assert.True(allclose(ours, bgr.flip(1), rtol: 0, atol: 1e-4), "normalised input differs from the graph's");
    }

    [Fact]
    public void Conversion_writes_the_cache_once_and_later_loads_reuse_it()
    {
        var first = _f.FirstConversion;
        _out.WriteLine($"converted in {first.ConversionSeconds:F2} s to {new FileInfo(first.File).Length:N0} bytes");
        Assert.Equal(WeightCacheOutcome.Converted, first.Outcome);
        Assert.True(first.ConversionSeconds > 0);
        var written = File.GetLastWriteTimeUtc(first.File);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var again = Weights.EnsureConverted(_f.CacheRoot);
        _out.WriteLine($"cache checked (SHA-256 of source and cache) in {watch.Elapsed.TotalSeconds:F2} s");
        Assert.Equal(WeightCacheOutcome.Reused, again.Outcome);
        Assert.Equal(first.File, again.File);
        Assert.Equal(0, again.ConversionSeconds);
        Assert.Equal(written, File.GetLastWriteTimeUtc(first.File));
        Assert.StartsWith(Path.GetFullPath(_f.CacheRoot), Path.GetFullPath(first.File));
    }

    [Fact]
    public void Every_tensor_of_the_onnx_file_lands_in_the_model_and_only_the_classifier_stays_fresh()
    {
        using var model = new MlNetResNet18(7);
        var report = Weights.LoadInto(model, 7, _f.CacheRoot);
        Assert.Equal(new[] { "fc.bias", "fc.weight" }, report.Load.SkippedClassifier.Order());
        // 22 convolutions and 22 BatchNorms of 4 tensors each.
        Assert.Equal(22 + 22 * 4, report.Load.Loaded);
        var onnx = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Weights.SourceFile(MlNetResNet18Weights.WeightsFileName)));
        var onnxFloats = onnx.Graph.Initializer.Sum(t => t.Dims.Aggregate(1L, (a, d) => a * d));
        var modelFloats = model.state_dict()
            .Where(e => !e.Key.StartsWith("fc.", StringComparison.Ordinal) && !e.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            .Sum(e => e.Value.numel());
        Assert.Equal(onnxFloats, modelFloats);
    }

    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    [InlineData("no-record")]
    public void A_damaged_cache_is_detected_and_rebuilt(string damage)
    {
        var root = _f.Dir.Combine("damaged-" + damage);
        var weights = Path.Combine(root, "weights", Path.GetFileName(_f.FirstConversion.File));
        Directory.CreateDirectory(Path.GetDirectoryName(weights)!);
        File.Copy(_f.FirstConversion.File, weights);
        File.Copy(WeightCache.RecordFile(_f.FirstConversion.File), WeightCache.RecordFile(weights));
        var intact = WeightCache.Sha256(weights);
        Assert.Equal(WeightCacheOutcome.Reused, Weights.EnsureConverted(root).Outcome);

        switch (damage)
        {
            case "flip":
                using (var s = File.Open(weights, FileMode.Open))
                {
                    s.Position = s.Length / 2;
                    var b = s.ReadByte();
                    s.Position = s.Length / 2;
                    s.WriteByte((byte)(b ^ 0x40));
                }
                break;
            case "truncate":
                using (var s = File.Open(weights, FileMode.Open)) s.SetLength(s.Length - 1000);
                break;
            default:
                File.Delete(WeightCache.RecordFile(weights));
                break;
        }

        var result = Weights.EnsureConverted(root);
        Assert.Equal(WeightCacheOutcome.Rebuilt, result.Outcome);
        Assert.Contains(damage == "no-record" ? "missing" : "damaged", result.RebuildReason);
        Assert.Equal(intact, WeightCache.Sha256(weights));
        Assert.Equal(WeightCacheOutcome.Reused, Weights.EnsureConverted(root).Outcome);
    }

    [Fact]
    public void A_missing_source_file_is_a_one_line_error_naming_it()
    {
        var missing = new MlNetResNet18Weights(_f.Dir.Combine("nowhere"));
        var e = Assert.Throws<MaskLabInputException>(() => missing.EnsureConverted(_f.CacheRoot));
        Assert.Contains(Path.Combine(_f.Dir.Combine("nowhere"), MlNetResNet18Weights.WeightsFileName), e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void The_registry_entry_names_its_embedded_weights()
    {
        var entry = ModelRegistry.Get(MlNetResNet18Weights.ModelName);
        Assert.Same(Weights, entry.Embedded);
        Assert.Null(ModelRegistry.Get("resnet18").Embedded);
        Assert.Equal("torchvision", ModelRegistry.Get("resnet18").Checkpoints);
    }
}
