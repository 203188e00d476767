using System.Reflection;
using System.Reflection.Emit;

namespace MaskLab.Tests;

/// <summary>
/// Imports run one way, from the CLI down to Core: Core, Platform &lt;- Data, Losses, Synthetic &lt;- Models &lt;- Runs &lt;-
/// Evaluation &lt;- Tracking &lt;- Training &lt;- Experiments, Benchmarks; Export sits on Models alone. Checked on the
/// compiled library: every type a type's signatures name and every type, method and field its method bodies touch
/// (read from the IL).
/// </summary>
public class LayeringTests
{
    /// <summary>What each stage may use besides itself.</summary>
    static readonly Dictionary<string, string[]> Allowed = Build(
        ("Core", []),
        ("Platform", ["Core"]),
        ("Data", ["Core", "Platform"]),
        ("Losses", ["Core"]),
        ("Synthetic", ["Core", "Data"]),
        ("Models", ["Core", "Platform", "Data", "Losses"]),
        ("Runs", ["Models", "Synthetic"]),
        ("Evaluation", ["Runs"]),
        ("Tracking", ["Evaluation"]),
        ("Training", ["Tracking"]),
        ("Experiments", ["Training"]),
        ("Benchmarks", ["Training"]),
        ("Export", ["Evaluation"]));

    /// <summary>Each stage inherits what the stages it may use may use.</summary>
    static Dictionary<string, string[]> Build(params (string Stage, string[] Uses)[] stages)
    {
        var result = new Dictionary<string, string[]>();
        foreach (var (stage, uses) in stages)
            result[stage] = uses.Concat(uses.SelectMany(u => result[u])).Distinct().ToArray();
        return result;
    }

    static readonly Assembly Library = typeof(RunConfig).Assembly;

    static string? StageOf(Type t)
    {
        var ns = t.Namespace;
        if (ns is null || !ns.StartsWith("MaskLab.", StringComparison.Ordinal)) return null;
        return ns.Split('.')[1];
    }

    [Fact]
    public void Every_stage_uses_only_the_stages_below_it()
    {
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in Library.GetTypes())
        {
            if (StageOf(type) is not { } stage) continue;
            Assert.True(Allowed.ContainsKey(stage), $"{type.FullName} is in stage '{stage}', which the layering does not know");
            foreach (var used in Dependencies(type))
            {
                if (StageOf(used) is not { } other || other == stage) continue;
                if (!Allowed[stage].Contains(other))
                    violations.Add($"{Outer(type).FullName} ({stage}) uses {Outer(used).FullName} ({other})");
            }
        }
        Assert.True(violations.Count == 0, "imports against the layer order:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void The_scanner_sees_signature_and_body_dependencies()
    {
        // A scanner that saw nothing would pass the test above vacuously.
        var trainer = Dependencies(typeof(Trainer)).ToHashSet();
        Assert.Contains(typeof(Inference), trainer);            // a static call in a method body
        Assert.Contains(typeof(RunConfig), trainer);            // the constructor's parameter
        Assert.Contains(typeof(TensorBoardLog), Dependencies(typeof(TensorBoardCallback)));   // Training may call Tracking
        Assert.Contains(typeof(RunDirectory), Dependencies(typeof(TrainedRun)));
        Assert.DoesNotContain(Dependencies(typeof(TrainedRun)), t => StageOf(t) == "Training");
    }

    [Fact]
    public void Every_source_file_sits_in_the_folder_of_its_namespace()
    {
        var src = Path.Combine(RepoRoot.Path, "src", "MaskLab");
        foreach (var file in Directory.GetFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(src, file);
            if (rel.StartsWith("obj", StringComparison.Ordinal) || rel.StartsWith("bin", StringComparison.Ordinal)) continue;
            var folder = rel.Split(Path.DirectorySeparatorChar)[0];
            Assert.True(Allowed.ContainsKey(folder), $"{rel} is outside the pipeline's folders");
            var ns = File.ReadLines(file).FirstOrDefault(l => l.StartsWith("namespace ", StringComparison.Ordinal));
            Assert.Equal($"namespace MaskLab.{folder};", ns);
        }
    }

    static Type Outer(Type t)
    {
        while (t.DeclaringType is { } d) t = d;
        return t;
    }

    const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>The types a type names in its signatures and touches in its method bodies (generic arguments unwrapped).</summary>
    static IEnumerable<Type> Dependencies(Type type)
    {
        var found = new HashSet<Type>();
        void Add(Type? t)
        {
            if (t is null) return;
            if (t.HasElementType) { Add(t.GetElementType()); return; }
            if (t.IsGenericParameter) return;
            if (!found.Add(t)) return;
            if (t.IsGenericType) foreach (var a in t.GetGenericArguments()) Add(a);
        }
        Add(type.BaseType);
        foreach (var i in type.GetInterfaces()) Add(i);
        foreach (var f in type.GetFields(All)) Add(f.FieldType);
        foreach (var p in type.GetProperties(All)) Add(p.PropertyType);
        var methods = type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All));
        foreach (var m in methods)
        {
            if (m is MethodInfo mi) Add(mi.ReturnType);
            foreach (var p in m.GetParameters()) Add(p.ParameterType);
            foreach (var t in BodyReferences(m)) Add(t);
        }
        return found;
    }

    static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>Declaring types of the methods and fields, and the types, that a method's IL refers to by token.</summary>
    static IEnumerable<Type> BodyReferences(MethodBase method)
    {
        byte[]? il;
        try { il = method.GetMethodBody()?.GetILAsByteArray(); }
        catch (Exception e) when (e is InvalidOperationException or BadImageFormatException) { il = null; }
        if (il is null) yield break;
        var typeArgs = method.DeclaringType is { IsGenericType: true } dt ? dt.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int pos = 0;
        while (pos < il.Length)
        {
            short value = il[pos] == 0xFE ? (short)(0xFE00 | il[pos + 1]) : il[pos];
            pos += il[pos] == 0xFE ? 2 : 1;
            var op = OpCodesByValue[value];
            switch (op.OperandType)
            {
                case OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok:
                    var token = BitConverter.ToInt32(il, pos);
                    Type? t = null;
                    try
                    {
                        var member = method.Module.ResolveMember(token, typeArgs, methodArgs);
                        t = member as Type ?? member?.DeclaringType;
                    }
                    catch (ArgumentException) { }
                    if (t is not null) yield return t;
                    pos += 4;
                    break;
                case OperandType.InlineSwitch:
                    pos += 4 + 4 * BitConverter.ToInt32(il, pos);
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    pos += 1;
                    break;
                case OperandType.InlineVar:
                    pos += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    pos += 8;
                    break;
                default:
                    pos += 4;
                    break;
            }
        }
    }
}
