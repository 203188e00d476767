using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using MaskLab.Data.Loading;
using Onnx;
using static TorchSharp.torch;

namespace MaskLab.Models;

/// <summary>
/// Reads ML.NET's ResNet18 ONNX files (CNTK 2.6 exports) into <see cref="MlNetResNet18"/>'s names. The graph is
/// walked back from its output by structure, not by CNTK's node numbers, and every attribute the model hard-codes
/// (kernels, strides, asymmetric pads, BatchNorm epsilon, blocks per stage, widths) is checked against it: a file
/// that differs is refused with a message naming the node rather than converted into a model that computes
/// something else.
/// </summary>
internal static class MlNetResNet18Onnx
{
    const float Epsilon = 1e-5f;

    /// <summary>
    /// The model's state_dict (no classifier, no num_batches_tracked) from <c>ResNet18.onnx</c>. The stem's input
    /// channels are reversed (the graph reads BGR, the model RGB).
    /// </summary>
    public static Dictionary<string, Tensor> ReadWeights(string file)
    {
        var graph = Load(file).Graph;
        var reader = new GraphReader(graph, file);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            reader.Read(result);
            return result;
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The preprocessing of <c>ResNetPreprocess.onnx</c>: split the 0..255 RGB input into channels, concatenate them
    /// as B, G, R, subtract a per-pixel mean image. Returned for RGB input (the mean image's planes reversed), with
    /// scale 255 (the graph works on 0..255 values; ML.NET's ExtractPixels gives those) and standard deviation 1.
    /// </summary>
    public static InputNormalization ReadNormalization(string file, string name)
    {
        var graph = Load(file).Graph;
        MaskLabInputException Fail(string why) => new($"'{file}' is not ML.NET's ResNet preprocessing graph: {why}");
        if (graph.Input.Count != 1 || graph.Output.Count != 1) throw Fail($"{graph.Input.Count} inputs and {graph.Output.Count} outputs, expected 1 and 1");
        var nodes = graph.Node;
        if (nodes.Count != 3 || nodes[0].OpType != "Split" || nodes[1].OpType != "Concat" || nodes[2].OpType != "Sub")
            throw Fail($"nodes {string.Join(", ", nodes.Select(n => n.OpType))}, expected Split, Concat, Sub");
        var (split, concat, sub) = (nodes[0], nodes[1], nodes[2]);
        if (split.Input[0] != graph.Input[0].Name || Int(split, "axis") != 1 || split.Output.Count != 3) throw Fail("Split does not cut the input's 3 channels");
        if (Int(concat, "axis") != 1 || !concat.Input.SequenceEqual(split.Output.Reverse())) throw Fail("Concat does not put the channels in reverse (BGR) order");
        if (sub.Input[0] != concat.Output[0] || sub.Output[0] != graph.Output[0].Name) throw Fail("Sub does not take the mean from the reordered channels");
        var meanProto = graph.Initializer.FirstOrDefault(t => t.Name == sub.Input[1]) ?? throw Fail($"no initializer '{sub.Input[1]}'");
        var dims = meanProto.Dims.ToArray();
        if (dims.Length != 4 || dims[0] != 1 || dims[1] != 3) throw Fail($"mean image of shape [{string.Join(", ", dims)}], expected [1, 3, H, W]");
        int height = (int)dims[2], width = (int)dims[3], plane = width * height;
        var bgr = Floats(meanProto, file);
        var rgb = new float[bgr.Length];
        for (var c = 0; c < 3; c++) Array.Copy(bgr, (2 - c) * plane, rgb, c * plane, plane);
        return InputNormalization.PerPixel(name, 255f, rgb, width, height, [1f, 1f, 1f]);
    }

    static ModelProto Load(string file)
    {
        if (!File.Exists(file)) throw new MaskLabInputException($"ONNX file '{file}' not found");
        try
        {
            using var stream = File.OpenRead(file);
            return ModelProto.Parser.ParseFrom(stream);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or IOException or UnauthorizedAccessException)
        {
            throw new MaskLabInputException($"cannot read ONNX file '{file}': {e.Message}");
        }
    }

    static long Int(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name)?.I ?? -1;

    static long[] Ints(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name)?.Ints.ToArray() ?? [];

    static float[] Floats(TensorProto t, string file)
    {
        if (t.DataType != (int)TensorProto.Types.DataType.Float)
            throw new MaskLabInputException($"'{file}': initializer '{t.Name}' has data type {t.DataType}, expected float (1)");
        var count = t.Dims.Aggregate(1L, (a, d) => a * d);
        float[] values;
        if (t.FloatData.Count > 0) values = t.FloatData.ToArray();
        else if (!t.RawData.IsEmpty && BitConverter.IsLittleEndian) values = MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();
        else values = [];
        if (values.Length != count)
            throw new MaskLabInputException($"'{file}': initializer '{t.Name}' holds {values.Length} floats, its shape [{string.Join(", ", t.Dims)}] needs {count}");
        return values;
    }

    /// <summary>Walks the ResNet graph from the pooled output back to the input.</summary>
    sealed class GraphReader
    {
        readonly string _file;
        readonly string _input;
        readonly Dictionary<string, NodeProto> _producer = new(StringComparer.Ordinal);
        readonly Dictionary<string, TensorProto> _initializers = new(StringComparer.Ordinal);
        readonly string _output;
        readonly int _nodeCount;
        readonly HashSet<NodeProto> _visited = [];

        public GraphReader(GraphProto graph, string file)
        {
            _file = file;
            foreach (var node in graph.Node)
                foreach (var output in node.Output)
                    _producer[output] = node;
            foreach (var t in graph.Initializer) _initializers[t.Name] = t;
            var inputs = graph.Input.Where(i => !_initializers.ContainsKey(i.Name)).ToList();
            if (inputs.Count != 1 || graph.Output.Count != 1)
                throw Error($"{inputs.Count} data inputs and {graph.Output.Count} outputs, expected 1 and 1");
            _input = inputs[0].Name;
            _output = graph.Output[0].Name;
            _nodeCount = graph.Node.Count;
        }

        MaskLabInputException Error(string why) =>
            new($"'{_file}' is not the ResNet18 layout of ML.NET's DnnImageFeaturizer: {why}");

        NodeProto Producer(string tensor, string op)
        {
            if (!_producer.TryGetValue(tensor, out var node)) throw Error($"'{tensor}' is made by no node, expected {op}");
            if (node.OpType != op) throw Error($"'{tensor}' comes from {node.OpType} node '{node.Name}', expected {op}");
            _visited.Add(node);
            return node;
        }

        bool Is(string tensor, string op) => _producer.TryGetValue(tensor, out var node) && node.OpType == op;

        public void Read(Dictionary<string, Tensor> into)
        {
            var pool = Producer(_output, "AveragePool");
            if (Ints(pool, "pads").Any(p => p != 0)) throw Error($"average pool '{pool.Name}' pads its input");
            var x = pool.Input[0];
            var blocks = new List<BlockNodes>();
            while (Is(x, "Relu") && Is(_producer[x].Input[0], "Add"))
            {
                var found = ReadBlock(x);
                blocks.Add(found);
                x = found.Input;
            }
            blocks.Reverse();

            var maxPool = Producer(x, "MaxPool");
            Check(maxPool, "kernel_shape", [3, 3]);
            Check(maxPool, "strides", [2, 2]);
            Check(maxPool, "pads", [1, 1, 0, 0]);
            var stemRelu = Producer(maxPool.Input[0], "Relu");
            var stemBn = Producer(stemRelu.Input[0], "BatchNormalization");
            var stem = Producer(stemBn.Input[0], "Conv");
            CheckConv(stem, 7, 2, [3, 3, 2, 2]);
            if (stem.Input[0] != _input) throw Error($"the stem convolution '{stem.Name}' does not read the graph's input");
            if (_visited.Count != _nodeCount)
                throw Error($"{_nodeCount - _visited.Count} nodes are not part of the ResNet path");

            using (var bgr = Weight(stem, 7))
                into["conv1.weight"] = bgr.flip(1);
            AddNorm(into, "bn1", stemBn);

            CheckStages(blocks);
            var block = 0;
            for (var s = 0; s < MlNetResNet18.BlocksPerStage.Count; s++)
            {
                for (var b = 0; b < MlNetResNet18.BlocksPerStage[s]; b++, block++)
                {
                    var nodes = blocks[block];
                    var prefix = $"layer{s + 1}.{b}.";
                    var strided = s > 0 && b == 0;
                    CheckConv(nodes.Conv1, 3, strided ? 2 : 1, strided ? [1, 1, 0, 0] : [1, 1, 1, 1]);
                    CheckConv(nodes.Conv2, 3, 1, [1, 1, 1, 1]);
                    into[prefix + "conv1.weight"] = Weight(nodes.Conv1, 3, MlNetResNet18.Widths[s]);
                    AddNorm(into, prefix + "bn1", nodes.Bn1);
                    into[prefix + "conv2.weight"] = Weight(nodes.Conv2, 3, MlNetResNet18.Widths[s]);
                    AddNorm(into, prefix + "bn2", nodes.Bn2);
                    if (nodes.Downsample is { } down)
                    {
                        CheckConv(down.Conv, 1, 2, [0, 0, 0, 0]);
                        into[prefix + "downsample.0.weight"] = Weight(down.Conv, 1, MlNetResNet18.Widths[s]);
                        AddNorm(into, prefix + "downsample.1", down.Bn);
                    }
                }
            }
        }

        /// <summary>Checks that the blocks fall into stages as the model has them: a shortcut convolution opens stages 2-4.</summary>
        void CheckStages(List<BlockNodes> blocks)
        {
            var expected = MlNetResNet18.BlocksPerStage;
            var counts = new List<int>();
            for (var i = 0; i < blocks.Count; i++)
            {
                if (i == 0 || blocks[i].Downsample is not null) counts.Add(0);
                counts[^1]++;
            }
            if (!counts.SequenceEqual(expected))
                throw Error($"basic blocks per stage {string.Join(", ", counts)}, expected {string.Join(", ", expected)}");
        }

        sealed record ShortcutNodes(NodeProto Conv, NodeProto Bn);

        sealed record BlockNodes(string Input, NodeProto Conv1, NodeProto Bn1, NodeProto Conv2, NodeProto Bn2, ShortcutNodes? Downsample);

        /// <summary>relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), read back from its output.</summary>
        BlockNodes ReadBlock(string output)
        {
            var relu = Producer(output, "Relu");
            var add = Producer(relu.Input[0], "Add");
            if (add.Input.Count != 2) throw Error($"Add '{add.Name}' has {add.Input.Count} inputs");
            // The main branch ends in a 3x3 convolution's BatchNorm; the shortcut is the block input or a 1x1 one.
            int main = -1;
            for (var i = 0; i < 2; i++)
                if (Is(add.Input[i], "BatchNormalization") && Is(_producer[add.Input[i]].Input[0], "Conv")
                    && Ints(_producer[_producer[add.Input[i]].Input[0]], "kernel_shape").SequenceEqual([3L, 3L]))
                    main = i;
            if (main < 0) throw Error($"neither input of Add '{add.Name}' is a 3x3 convolution's BatchNorm");
            var bn2 = Producer(add.Input[main], "BatchNormalization");
            var conv2 = Producer(bn2.Input[0], "Conv");
            var mid = Producer(conv2.Input[0], "Relu");
            var bn1 = Producer(mid.Input[0], "BatchNormalization");
            var conv1 = Producer(bn1.Input[0], "Conv");
            var input = conv1.Input[0];
            var shortcut = add.Input[1 - main];
            if (shortcut == input) return new BlockNodes(input, conv1, bn1, conv2, bn2, null);
            var downBn = Producer(shortcut, "BatchNormalization");
            var downConv = Producer(downBn.Input[0], "Conv");
            if (downConv.Input[0] != input)
                throw Error($"shortcut convolution '{downConv.Name}' does not read the block's input '{input}'");
            return new BlockNodes(input, conv1, bn1, conv2, bn2, new ShortcutNodes(downConv, downBn));
        }

        void Check(NodeProto node, string attribute, long[] expected)
        {
            var actual = Ints(node, attribute);
            if (!actual.SequenceEqual(expected))
                throw Error($"{node.OpType} '{node.Name}' has {attribute} [{string.Join(", ", actual)}], expected [{string.Join(", ", expected)}]");
        }

        void CheckConv(NodeProto conv, long kernel, long stride, long[] pads)
        {
            Check(conv, "kernel_shape", [kernel, kernel]);
            Check(conv, "strides", [stride, stride]);
            Check(conv, "pads", pads);
            var dilations = Ints(conv, "dilations");
            if (dilations.Any(d => d != 1)) throw Error($"Conv '{conv.Name}' is dilated");
            var group = Int(conv, "group");
            if (group is not (-1 or 1)) throw Error($"Conv '{conv.Name}' is grouped ({group})");
            if (conv.Input.Count != 2) throw Error($"Conv '{conv.Name}' has a bias; the model's convolutions have none");
        }

        TensorProto Initializer(string name, NodeProto user) =>
            _initializers.TryGetValue(name, out var t) ? t : throw Error($"'{user.Name}' reads '{name}', which is no initializer");

        Tensor Make(TensorProto t) => tensor(Floats(t, _file), t.Dims.ToArray(), dtype: ScalarType.Float32);

        Tensor Weight(NodeProto conv, long kernel, long outChannels = 64)
        {
            var t = Initializer(conv.Input[1], conv);
            var dims = t.Dims.ToArray();
            if (dims.Length != 4 || dims[0] != outChannels || dims[2] != kernel || dims[3] != kernel)
                throw Error($"Conv '{conv.Name}' weight has shape [{string.Join(", ", dims)}], expected [{outChannels}, C, {kernel}, {kernel}]");
            return Make(t);
        }

        /// <summary>ONNX BatchNormalization reads (X, scale, B, mean, var); PyTorch names them weight, bias, running_mean, running_var.</summary>
        void AddNorm(Dictionary<string, Tensor> into, string prefix, NodeProto bn)
        {
            if (bn.Input.Count != 5) throw Error($"BatchNormalization '{bn.Name}' has {bn.Input.Count} inputs, expected 5");
            var epsilon = bn.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
            if (Math.Abs(epsilon - Epsilon) > 1e-9f)
                throw Error($"BatchNormalization '{bn.Name}' has epsilon {epsilon.ToString(CultureInfo.InvariantCulture)}, the model uses {Epsilon}");
            var spatial = bn.Attribute.FirstOrDefault(a => a.Name == "spatial");
            if (spatial is not null && spatial.I != 1) throw Error($"BatchNormalization '{bn.Name}' is not spatial");
            string[] names = ["weight", "bias", "running_mean", "running_var"];
            for (var i = 0; i < names.Length; i++)
                into[$"{prefix}.{names[i]}"] = Make(Initializer(bn.Input[i + 1], bn));
        }
    }
}
