using System.Globalization;
using Google.Protobuf;
using MaskLab.Data.Layout;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Export;

/// <summary>What <see cref="OnnxExport.Write"/> wrote.</summary>
/// <param name="Parameters">Numbers in the weight initializers (the model's parameters and batch-norm statistics).</param>
public sealed record OnnxExportResult(string Path, long Bytes, int Nodes, long Parameters);

/// <summary>
/// Exports a model built by <see cref="Models.ModelRegistry"/> to ONNX (opset <see cref="ExportSpec.Opset"/>),
/// emitting the graph from the model's own layer types: TorchSharp has no tracer or ONNX exporter. The graph takes
/// <c>image</c> [batch, C, H, W] and gives <c>logits</c> [batch, logits] and <c>probabilities</c> [batch, classes];
/// the weights are initializers named by their state_dict keys. How to prepare the input is written into the
/// model's metadata_props (see <see cref="Metadata"/>).
/// </summary>
public static class OnnxExport
{
    public const string InputName = "image";
    public const string LogitsName = "logits";
    public const string ProbabilitiesName = "probabilities";

    /// <summary>The largest probability difference between ONNX Runtime and TorchSharp that a check accepts.</summary>
    public const double Tolerance = 1e-4;

    // Protobuf cannot serialise a message of 2 GiB or more; keep a margin for the graph around the weights.
    const long MaxInitializerBytes = int.MaxValue - (64L << 20);

    static readonly Lazy<IReadOnlyDictionary<Type, ModuleConverter>> Converters = new(() =>
    {
        var table = new Dictionary<Type, ModuleConverter>();
        LayerConverters.Register(table);
        TorchVisionConverters.Register(table);
        MaskLabConverters.Register(table);
        return table;
    });

    /// <summary>
    /// Builds the ONNX model of <paramref name="model"/> (put in eval mode: the export is of inference). A module
    /// the exporter has no converter for, or one it cannot vouch for, is a <see cref="MaskLabInputException"/>
    /// naming it.
    /// </summary>
    public static ModelProto Build(nn.Module<Tensor, Tensor> model, string modelName, ExportSpec spec) =>
        BuildGraph(model, modelName, spec).Proto;

    static (ModelProto Proto, OnnxGraph Graph) BuildGraph(nn.Module<Tensor, Tensor> model, string modelName, ExportSpec spec)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(modelName);
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        model.eval();

        var graph = new OnnxGraph(modelName);
        var exporter = new ModuleExporter(graph, modelName, Converters.Value);
        long[] inputShape = [1, spec.Channels, spec.Height, spec.Width];
        var x = graph.Input(InputName, inputShape);
        if (spec.Input is { } input)
        {
            // (x * scale - mean) / std, the mean per pixel at the export size where the weights brought a mean image.
            long[] meanShape = input.IsPerPixel ? [1, 3, spec.Height, spec.Width] : [1, 3, 1, 1];
            x = graph.Binary("Mul", "normalize", x, graph.Floats("normalize/scale", [input.Scale], [1, 1, 1, 1]));
            x = graph.Binary("Sub", "normalize", x, graph.Floats("normalize/mean", input.MeanAt(spec.Width, spec.Height), meanShape));
            x = graph.Binary("Div", "normalize", x, graph.Floats("normalize/std", input.Std.ToArray(), [1, 3, 1, 1]));
        }
        else if (spec.NormalizationInGraph)
        {
            var n = spec.Normalization;
            x = graph.Binary("Sub", "normalize", x, graph.Floats("normalize/mean", [n.MeanR, n.MeanG, n.MeanB], [1, 3, 1, 1]));
            x = graph.Binary("Div", "normalize", x, graph.Floats("normalize/std", [n.StdR, n.StdG, n.StdB], [1, 3, 1, 1]));
        }

        // The model's own forward first: an input it cannot take (a size a Mixer was not built for, a channel
        // count its stem does not have) is the caller's mistake, named here rather than deep in a converter.
        long[] torchShape;
        try { torchShape = exporter.TorchShape(model, "", inputShape); }
        catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or ArgumentException)
        {
            throw new MaskLabInputException(
                $"cannot export '{modelName}' to ONNX: it does not run on input [batch, {spec.Channels}, {spec.Height}, {spec.Width}] " +
                $"({e.Message.Split('\n', 2)[0].Trim()})");
        }

        if (torchShape.Length != 2 || torchShape[1] != spec.Logits)
            throw new MaskLabInputException(
                $"cannot export '{modelName}' to ONNX: it gives outputs [{string.Join(", ", torchShape)}] per image, " +
                $"but the {spec.Head.ToString().ToLowerInvariant()} head for {spec.NumClasses} classes needs {spec.Logits} logits");

        OnnxValue logits;
        using (no_grad())
            logits = exporter.Convert(model, "", x);
        if (!torchShape.SequenceEqual(logits.Shape))
            throw new InvalidOperationException(
                $"exporting '{modelName}': the graph gives [{string.Join(", ", logits.Shape)}], the model [{string.Join(", ", torchShape)}]");

        var probabilities = ClassProbabilities(graph, spec, logits);
        graph.Output(logits, LogitsName);
        graph.Output(probabilities, ProbabilitiesName);
        if (graph.InitializerBytes > MaxInitializerBytes)
            throw new MaskLabInputException(
                $"cannot export '{modelName}' to ONNX: its weights take {graph.InitializerBytes >> 20} MiB, over the format's 2 GiB limit");

        var proto = new ModelProto
        {
            IrVersion = ExportSpec.IrVersion,
            ProducerName = "MaskLab",
            ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "",
            Graph = graph.Proto,
            DocString = $"{modelName}: {Describe(spec)}",
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = ExportSpec.Opset });
        foreach (var (key, value) in Metadata(modelName, spec))
            proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return (proto, graph);
    }

    /// <summary>The head's probabilities (a softmax, or the multi head's product), with the age band from the ordinal output where there is one.</summary>
    static OnnxValue ClassProbabilities(OnnxGraph g, ExportSpec spec, OnnxValue logits)
    {
        var classLogits = spec.OrdinalAge is null ? logits : g.Narrow("head/classes", logits, 1, 0, spec.ClassLogits);
        var p = spec.Head == ExportHead.Multi ? MultiHeadProbabilities(g, classLogits) : g.Softmax("head", classLogits, 1);
        return spec.OrdinalAge is { } cuts ? OrdinalAgeProbabilities(g, p, logits, spec.ClassLogits, cuts, spec.AgeOverThreshold) : p;
    }

    /// <summary>
    /// <see cref="Models.OrdinalAgeHead.Probabilities"/> as a graph: the head's mask x gender marginal [batch, 6, 1]
    /// times the band probabilities [batch, 1, 3] cut from the ordinal logits at <paramref name="cuts"/>.
    /// </summary>
    static OnnxValue OrdinalAgeProbabilities(OnnxGraph g, OnnxValue p, OnnxValue logits, int offset, Data.Layout.AgeCuts cuts, double overThreshold)
    {
        const string scope = "head/age";
        int groups = Models.MultiHead.MaskClasses * Models.MultiHead.GenderClasses, bands = Models.MultiHead.AgeClasses;
        var maskGender = g.ReduceSum(scope, g.Reshape(scope, p, 0, groups, bands), 2, keepDims: true);
        var lower = g.Unary("Sigmoid", scope, g.Narrow(scope, logits, 1, offset + Models.AgeOrdinal.IndexOf(cuts.Lower), 1));
        var upperLogit = g.Narrow(scope, logits, 1, offset + Models.AgeOrdinal.IndexOf(cuts.Upper), 1);
        if (overThreshold != Models.AgeOrdinal.EvenThreshold)
            upperLogit = g.Binary("Add", scope, upperLogit, g.Scalar(scope + "/over_shift", (float)Models.AgeOrdinal.UpperShift(overThreshold)));
        var upper = g.Unary("Sigmoid", scope, upperLogit);
        var under = g.Binary("Sub", scope, g.Scalar(scope + "/one", 1f), lower);
        var middle = g.Unary("Relu", scope, g.Binary("Sub", scope, lower, upper));
        var band = g.Concat(scope, [under, middle, upper], 1);
        band = g.Binary("Div", scope, band, g.ReduceSum(scope, band, 1, keepDims: true));
        return g.Reshape("head", g.Mul("head", maskGender, g.Reshape(scope, band, 0, 1, bands)), 0, groups * bands);
    }

    /// <summary>
    /// The mask, gender and age softmaxes multiplied into [batch, 3, 2, 3] and read row-major, which is
    /// <c>mask * 6 + gender * 3 + age</c>: the task's class code, as <see cref="Models.MultiHead.Probabilities"/>.
    /// </summary>
    static OnnxValue MultiHeadProbabilities(OnnxGraph g, OnnxValue logits)
    {
        const int mask = Models.MultiHead.MaskClasses, gender = Models.MultiHead.GenderClasses, age = Models.MultiHead.AgeClasses;
        var pm = g.Reshape("head/mask", g.Softmax("head/mask", g.Narrow("head/mask", logits, 1, 0, mask), 1), 0, mask, 1, 1);
        var pg = g.Reshape("head/gender", g.Softmax("head/gender", g.Narrow("head/gender", logits, 1, mask, gender), 1), 0, 1, gender, 1);
        var pa = g.Reshape("head/age", g.Softmax("head/age", g.Narrow("head/age", logits, 1, mask + gender, age), 1), 0, 1, 1, age);
        return g.Reshape("head", g.Mul("head", g.Mul("head", pm, pg), pa), 0, mask * gender * age);
    }

    /// <summary>
    /// Writes the model's ONNX file atomically (a temporary file renamed over <paramref name="outFile"/>), so an
    /// interrupted export never leaves a truncated model behind.
    /// </summary>
    public static OnnxExportResult Write(nn.Module<Tensor, Tensor> model, string modelName, ExportSpec spec, string outFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(outFile);
        var (proto, graph) = BuildGraph(model, modelName, spec);
        AtomicFile.Write(outFile, stream => proto.WriteTo(stream));
        return new OnnxExportResult(Path.GetFullPath(outFile), new FileInfo(outFile).Length, graph.NodeCount, graph.ParameterCount);
    }

    /// <summary>
    /// Runs the ONNX file in ONNX Runtime and the model in TorchSharp (with the same head) on
    /// <paramref name="images"/> [N, C, H, W], given as the graph takes them (RGB in 0..1 when the normalisation is in
    /// the graph), and returns the largest differences.
    /// </summary>
    public static OnnxCheck Verify(string onnxFile, nn.Module<Tensor, Tensor> model, ExportSpec spec, Tensor images) =>
        OnnxRuntimeCheck.Compare(onnxFile, model, spec, images);

    /// <summary>ONNX Runtime's class probabilities [N, classes] for <paramref name="images"/> [N, C, H, W] given as the graph takes them.</summary>
    public static float[,] Probabilities(string onnxFile, Tensor images)
    {
        var flat = OnnxRuntimeCheck.Probabilities(onnxFile, images);
        int n = (int)images.shape[0], classes = flat.Length / Math.Max(n, 1);
        var result = new float[n, classes];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < classes; c++) result[i, c] = flat[i * classes + c];
        return result;
    }

    /// <summary><paramref name="count"/> images of uniform noise in 0..1, shaped as the graph's input, drawn from <paramref name="seed"/>.</summary>
    public static Tensor RandomImages(ExportSpec spec, int count, long seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        using var generator = new Generator((ulong)seed);
        return rand([count, spec.Channels, spec.Height, spec.Width], generator: generator);
    }

    /// <summary>
    /// The metadata_props written into the model: what to feed it (layout, channel order, value scale, size, and
    /// the mean / std, with whether the graph applies them) and what it gives.
    /// </summary>
    public static IReadOnlyList<(string Key, string Value)> Metadata(string modelName, ExportSpec spec)
    {
        var n = spec.Normalization;
        string F(float v) => v.ToString("R", CultureInfo.InvariantCulture);
        var list = new List<(string, string)>
        {
            ("model", modelName),
            ("input", InputName),
            ("input_shape", $"batch,{spec.Channels},{spec.Height},{spec.Width}"),
            ("input_layout", "NCHW"),
            ("channel_order", "RGB"),
            ("image_width", spec.Width.ToString(CultureInfo.InvariantCulture)),
            ("image_height", spec.Height.ToString(CultureInfo.InvariantCulture)),
            ("resize", $"whole image to {spec.Width}x{spec.Height}, aspect ratio not kept, no crop (torchvision Resize((h, w)))"),
            ("value_scale", spec.NormalizationInGraph ? "0..1 (8-bit value / 255)" : "normalised: (value / 255 - mean) / std"),
            ("mean", $"{F(n.MeanR)},{F(n.MeanG)},{F(n.MeanB)}"),
            ("std", $"{F(n.StdR)},{F(n.StdG)},{F(n.StdB)}"),
            ("normalization", spec.Input is { } input
                ? $"in_graph: {input}; feed RGB in 0..1"
                : spec.NormalizationInGraph
                ? "in_graph: the graph subtracts mean and divides by std; feed RGB in 0..1"
                : "caller: feed (RGB in 0..1 - mean) / std"),
            ("outputs", $"{LogitsName}: batch,{spec.Logits}; {ProbabilitiesName}: batch,{spec.NumClasses}"),
            ("head", spec.Head.ToString().ToLowerInvariant()),
            ("num_classes", spec.NumClasses.ToString(CultureInfo.InvariantCulture)),
        };
        if (spec.NumClasses == Data.Layout.TaskClasses.Count && spec.ClassNames is null)
            list.Add(("class_code", "class = mask * 6 + gender * 3 + age; mask 0 wear, 1 incorrect, 2 not worn; gender 0 male, 1 female; age 0 <30, 1 30-59, 2 >=60"));
        if (spec.Head == ExportHead.Multi)
            list.Add(("logits_layout", "mask 0..2, gender 3..4, age 5..7"));
        if (spec.OrdinalAge is { } cuts)
            list.Add(("age_output", $"ordinal: logits {spec.ClassLogits}..{spec.Logits - 1} are P(age >= t) for t = {Models.AgeOrdinal.MinAge + 1}..{Models.AgeOrdinal.MaxAge} (sigmoid); " +
                $"the probabilities take the age band from them, cut at {cuts.Lower} and {cuts.Upper}" +
                (spec.AgeOverThreshold == Models.AgeOrdinal.EvenThreshold ? "" : $", the upper band from P(age >= {cuts.Upper}) > {spec.AgeOverThreshold.ToString(CultureInfo.InvariantCulture)} on"))); 
        if (spec.ClassNames is not null)
            list.Add(("class_names", string.Join(",", spec.ClassNames)));
        return list;
    }

    static string Describe(ExportSpec spec) =>
        spec.NormalizationInGraph
            ? $"RGB {spec.Width}x{spec.Height} in 0..1 (NCHW) in, class probabilities out"
            : $"normalised RGB {spec.Width}x{spec.Height} (NCHW) in, class probabilities out";
}
