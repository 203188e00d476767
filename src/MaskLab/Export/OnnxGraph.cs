using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace MaskLab.Export;

/// <summary>
/// A value in the graph being built and its shape. The batch axis is tracked as 1 and written as the symbolic
/// dimension <c>batch</c> on the graph's inputs and outputs; every other axis is fixed by the export size.
/// </summary>
internal sealed record OnnxValue(string Name, long[] Shape)
{
    public int Rank => Shape.Length;

    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]";
}

/// <summary>
/// Builds an ONNX graph node by node on OnnxSharp's protobuf classes, tracking each value's shape so that
/// converters can size reshapes, pooling matrices and position embeddings. Weights and constants become
/// initializers.
/// </summary>
internal sealed class OnnxGraph
{
    public const string BatchDim = "batch";

    readonly GraphProto _graph = new();
    readonly Dictionary<string, int> _stems = new(StringComparer.Ordinal);

    public OnnxGraph(string name) => _graph.Name = name;

    public GraphProto Proto => _graph;

    /// <summary>Numbers held by weight initializers (constants the exporter makes are not counted).</summary>
    public long ParameterCount { get; private set; }

    /// <summary>Bytes of all initializers, to refuse a model over protobuf's 2 GiB limit before serialising.</summary>
    public long InitializerBytes { get; private set; }

    public int NodeCount => _graph.Node.Count;

    /// <summary>A name not used before, made from <paramref name="stem"/>.</summary>
    public string Unique(string stem)
    {
        if (string.IsNullOrEmpty(stem)) stem = "v";
        if (!_stems.TryGetValue(stem, out var n))
        {
            _stems[stem] = 1;
            return stem;
        }
        string name;
        do name = $"{stem}_{n++}"; while (_stems.ContainsKey(name));
        _stems[stem] = n;
        _stems[name] = 1;
        return name;
    }

    public OnnxValue Input(string name, long[] shape)
    {
        var value = new OnnxValue(Unique(name), shape);
        _graph.Input.Add(ValueInfo(value.Name, shape));
        return value;
    }

    /// <summary>Names <paramref name="value"/> as a graph output (through an Identity node, so any value can be one).</summary>
    public OnnxValue Output(OnnxValue value, string name)
    {
        var output = new OnnxValue(Unique(name), value.Shape);
        var node = new NodeProto { OpType = "Identity", Name = Unique(name + "/Identity") };
        node.Input.Add(value.Name);
        node.Output.Add(output.Name);
        _graph.Node.Add(node);
        _graph.Output.Add(ValueInfo(output.Name, value.Shape));
        return output;
    }

    static ValueInfoProto ValueInfo(string name, long[] shape)
    {
        var dims = new TensorShapeProto();
        for (var i = 0; i < shape.Length; i++)
            dims.Dim.Add(i == 0 ? new TensorShapeProto.Types.Dimension { DimParam = BatchDim }
                : new TensorShapeProto.Types.Dimension { DimValue = shape[i] });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto
            {
                TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = dims },
            },
        };
    }

    /// <summary>A learned tensor as a float32 initializer named <paramref name="name"/> (a state_dict key).</summary>
    public OnnxValue Weight(string name, Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var data = tensor.detach().cpu().to_type(ScalarType.Float32).contiguous();
        var t = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(data.shape);
        // One copy, straight from the tensor's memory (little-endian, as ONNX stores raw data).
        t.RawData = ByteString.CopyFrom(data.bytes);
        InitializerBytes += t.RawData.Length;
        ParameterCount += data.numel();
        _graph.Initializer.Add(t);
        return new OnnxValue(t.Name, data.shape);
    }

    /// <summary>A float32 constant (an initializer, not a learned weight).</summary>
    public OnnxValue Floats(string stem, float[] values, long[] dims)
    {
        if (dims.Aggregate(1L, (a, b) => a * b) != values.LongLength)
            throw new ArgumentException($"{values.Length} values do not fill [{string.Join(", ", dims)}]");
        var name = Unique(stem);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        // ONNX stores raw data little-endian, as .NET lays floats out on every platform it runs MaskLab on.
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        InitializerBytes += t.RawData.Length;
        _graph.Initializer.Add(t);
        return new OnnxValue(name, dims);
    }

    public OnnxValue Scalar(string stem, float value) => Floats(stem, [value], []);

    /// <summary>A 1-D int64 constant (shapes, axes, indices).</summary>
    public OnnxValue Int64s(string stem, params long[] values)
    {
        var name = Unique(stem);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(values.Length);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        InitializerBytes += t.RawData.Length;
        _graph.Initializer.Add(t);
        return new OnnxValue(name, [values.Length]);
    }

    /// <summary>A 0-D int64 constant (an index that drops its axis in Gather).</summary>
    public OnnxValue Int64Scalar(string stem, long value)
    {
        var name = Unique(stem);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.RawData = ByteString.CopyFrom(BitConverter.GetBytes(value));
        InitializerBytes += t.RawData.Length;
        _graph.Initializer.Add(t);
        return new OnnxValue(name, []);
    }

    /// <summary>Adds a node with one output of the given shape; <paramref name="scope"/> (a module path) names it.</summary>
    public OnnxValue Node(string op, string scope, IEnumerable<OnnxValue?> inputs, long[] shape, params AttributeProto[] attributes)
    {
        var name = Unique(string.IsNullOrEmpty(scope) ? op : $"{scope}/{op}");
        var node = new NodeProto { OpType = op, Name = name };
        // An absent optional input is written as an empty name, as ONNX specifies.
        foreach (var input in inputs) node.Input.Add(input?.Name ?? "");
        node.Output.Add(name);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return new OnnxValue(name, shape);
    }

    public OnnxValue Unary(string op, string scope, OnnxValue x, params AttributeProto[] attributes) =>
        Node(op, scope, [x], x.Shape, attributes);

    /// <summary>An elementwise op with numpy broadcasting (Add, Sub, Mul, Div).</summary>
    public OnnxValue Binary(string op, string scope, OnnxValue a, OnnxValue b) =>
        Node(op, scope, [a, b], Broadcast(a.Shape, b.Shape));

    public OnnxValue Add(string scope, OnnxValue a, OnnxValue b) => Binary("Add", scope, a, b);

    public OnnxValue Mul(string scope, OnnxValue a, OnnxValue b) => Binary("Mul", scope, a, b);

    public OnnxValue MatMul(string scope, OnnxValue a, OnnxValue b)
    {
        if (a.Rank < 2 || b.Rank < 2 || a.Shape[^1] != b.Shape[^2])
            throw new InvalidOperationException($"MatMul of {a} and {b}");
        var batch = Broadcast(a.Shape[..^2], b.Shape[..^2]);
        return Node("MatMul", scope, [a, b], [.. batch, a.Shape[^2], b.Shape[^1]]);
    }

    public OnnxValue Transpose(string scope, OnnxValue x, params long[] perm) =>
        Node("Transpose", scope, [x], perm.Select(p => x.Shape[p]).ToArray(), Attr.Ints("perm", perm));

    /// <summary>Reshape to <paramref name="target"/>, where 0 keeps the input's axis (the batch) and one -1 is inferred.</summary>
    public OnnxValue Reshape(string scope, OnnxValue x, params long[] target)
    {
        var shape = new long[target.Length];
        var known = 1L;
        var infer = -1;
        for (var i = 0; i < target.Length; i++)
        {
            shape[i] = target[i] == 0 ? x.Shape[i] : target[i];
            if (target[i] == -1) infer = i;
            else known *= shape[i];
        }
        var total = x.Shape.Aggregate(1L, (a, b) => a * b);
        if (infer >= 0) shape[infer] = total / known;
        if (shape.Aggregate(1L, (a, b) => a * b) != total)
            throw new InvalidOperationException($"cannot reshape {x} to [{string.Join(", ", target)}]");
        return Node("Reshape", scope, [x, Int64s(scope + "/shape", target)], shape);
    }

    public OnnxValue Concat(string scope, IReadOnlyList<OnnxValue> parts, int axis)
    {
        var shape = (long[])parts[0].Shape.Clone();
        shape[axis] = parts.Sum(p => p.Shape[axis]);
        return Node("Concat", scope, parts, shape, Attr.Int("axis", axis));
    }

    /// <summary>Takes index <paramref name="index"/> along <paramref name="axis"/>, dropping the axis (like <c>select</c>).</summary>
    public OnnxValue Select(string scope, OnnxValue x, int axis, long index)
    {
        var shape = x.Shape.Where((_, i) => i != axis).ToArray();
        return Node("Gather", scope, [x, Int64Scalar(scope + "/index", index)], shape, Attr.Int("axis", axis));
    }

    /// <summary>Elements <paramref name="start"/> .. <paramref name="start"/> + <paramref name="length"/> along one axis (like <c>narrow</c>).</summary>
    public OnnxValue Narrow(string scope, OnnxValue x, int axis, long start, long length)
    {
        var shape = (long[])x.Shape.Clone();
        shape[axis] = length;
        return Node("Slice", scope,
            [x, Int64s(scope + "/starts", start), Int64s(scope + "/ends", start + length), Int64s(scope + "/axes", axis)], shape);
    }

    public OnnxValue ReduceMean(string scope, OnnxValue x, int axis, bool keepDims)
    {
        var shape = keepDims ? x.Shape.Select((d, i) => i == axis ? 1 : d).ToArray() : x.Shape.Where((_, i) => i != axis).ToArray();
        // Opset 17 takes the axes as an attribute (an input only from opset 18 on).
        return Node("ReduceMean", scope, [x], shape, Attr.Ints("axes", axis), Attr.Int("keepdims", keepDims ? 1 : 0));
    }

    public OnnxValue ReduceSum(string scope, OnnxValue x, int axis, bool keepDims)
    {
        var shape = keepDims ? x.Shape.Select((d, i) => i == axis ? 1 : d).ToArray() : x.Shape.Where((_, i) => i != axis).ToArray();
        // Unlike ReduceMean, ReduceSum takes its axes as an input from opset 13 on.
        return Node("ReduceSum", scope, [x, Int64s(scope + "/axes", axis)], shape, Attr.Int("keepdims", keepDims ? 1 : 0));
    }

    /// <summary>Flattens axes <paramref name="axis"/> and after into one (ONNX Flatten makes a 2-D result).</summary>
    public OnnxValue Flatten(string scope, OnnxValue x, int axis)
    {
        var head = x.Shape[..axis].Aggregate(1L, (a, b) => a * b);
        var tail = x.Shape[axis..].Aggregate(1L, (a, b) => a * b);
        return Node("Flatten", scope, [x], [head, tail], Attr.Int("axis", axis));
    }

    public OnnxValue Softmax(string scope, OnnxValue x, int axis) => Unary("Softmax", scope, x, Attr.Int("axis", axis));

    static long[] Broadcast(long[] a, long[] b)
    {
        var rank = Math.Max(a.Length, b.Length);
        var shape = new long[rank];
        for (var i = 0; i < rank; i++)
        {
            var da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            var db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw new InvalidOperationException($"shapes [{string.Join(", ", a)}] and [{string.Join(", ", b)}] do not broadcast");
            shape[i] = Math.Max(da, db);
        }
        return shape;
    }
}

/// <summary>ONNX node attributes.</summary>
internal static class Attr
{
    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };
}
