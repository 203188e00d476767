using System.Reflection;
using System.Reflection.Emit;
using System.Xml.Linq;
using MaskLab.Cli.Commands;
using MaskLab.Dashboard;

namespace MaskLab.Tests;

/// <summary>
/// Imports run one way, from the CLI down to Core. Between assemblies: MaskLab.Cli &lt;- MaskLab.Dashboard &lt;- MaskLab
/// (the library). Within the library a stage is a folder under src/MaskLab with the namespace of its path: Core,
/// Platform &lt;- Data/Layout, Data/Faces &lt;- Data/Loading; Losses on Core; Synthetic on Data/Layout and Data/Faces;
/// Models &lt;- Runs &lt;- Evaluation &lt;- Tracking &lt;- Training &lt;- Experiments, Benchmarks; Export on Evaluation. Checked
/// on the compiled assemblies: every type a type's signatures name and every type, method and field its method
/// bodies touch (read from the IL).
/// </summary>
public class LayeringTests
{
    /// <summary>What each stage may use besides itself.</summary>
    static readonly Dictionary<string, string[]> Allowed = Build(
        ("Core", []),
        ("Platform", ["Core"]),
        ("Data/Layout", ["Core", "Platform"]),
        ("Data/Faces", ["Core", "Platform"]),
        ("Data/Loading", ["Data/Layout", "Data/Faces"]),
        ("Losses", ["Core"]),
        ("Synthetic", ["Core", "Data/Layout", "Data/Faces"]),
        ("Models", ["Core", "Platform", "Data/Loading", "Losses"]),
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
    static readonly Assembly DashboardAssembly = typeof(DashboardServer).Assembly;
    static readonly Assembly CliAssembly = typeof(ServeCommand).Assembly;

    /// <summary>The project's assemblies, each with the ones it may use: the CLI over the dashboard over the library.</summary>
    static readonly (Assembly Assembly, string Project, Assembly[] Uses)[] Assemblies =
    [
        (Library, "src/MaskLab/MaskLab.csproj", []),
        (DashboardAssembly, "src/MaskLab.Dashboard/MaskLab.Dashboard.csproj", [Library]),
        (CliAssembly, "src/MaskLab.Cli/MaskLab.Cli.csproj", [Library, DashboardAssembly]),
    ];

    /// <summary>A library type's stage: the folder path of its namespace under src/MaskLab, e.g. "Data/Faces".</summary>
    static string? StageOf(Type t)
    {
        var ns = t.Namespace;
        if (ns is null || !ns.StartsWith("MaskLab.", StringComparison.Ordinal)) return null;
        return ns["MaskLab.".Length..].Replace('.', '/');
    }

    [Fact]
    public void Every_stage_uses_only_the_stages_below_it()
    {
        foreach (var type in Library.GetTypes())
            if (StageOf(type) is { } stage)
                Assert.True(Allowed.ContainsKey(stage), $"{type.FullName} is in stage '{stage}', which the layering does not know");
        var violations = StageViolations(Library.GetTypes(), Allowed);
        Assert.True(violations.Count == 0, "imports against the layer order:\n" + string.Join("\n", violations));
    }

    /// <summary>"A (stage) uses B (stage)" for each dependency of <paramref name="types"/> that <paramref name="allowed"/> forbids.</summary>
    static SortedSet<string> StageViolations(IEnumerable<Type> types, Dictionary<string, string[]> allowed)
    {
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in types)
        {
            if (StageOf(type) is not { } stage || !allowed.TryGetValue(stage, out var uses)) continue;
            foreach (var used in Dependencies(type))
            {
                if (StageOf(used) is not { } other || other == stage) continue;
                if (!uses.Contains(other))
                    violations.Add($"{Outer(type).FullName} ({stage}) uses {Outer(used).FullName} ({other})");
            }
        }
        return violations;
    }

    [Fact]
    public void Every_assembly_uses_only_the_assemblies_below_it()
    {
        var ours = Assemblies.Select(a => a.Assembly).ToHashSet();
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (assembly, project, uses) in Assemblies)
        {
            var name = assembly.GetName().Name!;
            var may = uses.Select(u => u.GetName().Name!).ToHashSet();
            // The project file, which would build a reference the code does not use yet.
            var xml = XDocument.Load(Path.Combine(RepoRoot.Path, project));
            foreach (var reference in xml.Descendants("ProjectReference").Select(r => Path.GetFileNameWithoutExtension((string)r.Attribute("Include")!)))
                if (!may.Contains(reference))
                    violations.Add($"{project} references the project {reference}");
            // The compiled assembly's references.
            foreach (var reference in assembly.GetReferencedAssemblies())
                if (ours.Any(a => a.GetName().Name == reference.Name) && !may.Contains(reference.Name!))
                    violations.Add($"{name} references the assembly {reference.Name}");
            // What its types name and touch.
            foreach (var type in assembly.GetTypes())
                foreach (var used in Dependencies(type))
                    if (used.Assembly != assembly && ours.Contains(used.Assembly) && !uses.Contains(used.Assembly))
                        violations.Add($"{Outer(type).FullName} ({name}) uses {Outer(used).FullName} ({used.Assembly.GetName().Name})");
        }
        Assert.True(violations.Count == 0, "imports against the assembly order:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void The_scanner_sees_signature_and_body_dependencies()
    {
        // A scanner that saw nothing would pass the tests above vacuously.
        var trainer = Dependencies(typeof(Trainer)).ToHashSet();
        Assert.Contains(typeof(Inference), trainer);            // a static call in a method body
        Assert.Contains(typeof(RunConfig), trainer);            // the constructor's parameter
        Assert.Contains(typeof(TensorBoardLog), Dependencies(typeof(TensorBoardCallback)));   // Training may call Tracking
        Assert.Contains(typeof(RunDirectory), Dependencies(typeof(TrainedRun)));
        Assert.DoesNotContain(Dependencies(typeof(TrainedRun)), t => StageOf(t) == "Training");

        // Between the Data sub-stages: Loading takes Layout's samples and Faces' crop settings.
        Assert.Equal("Data/Loading", StageOf(typeof(BatchLoader)));
        Assert.Equal("Data/Layout", StageOf(typeof(Sample)));
        Assert.Contains(typeof(Sample), Dependencies(typeof(BatchLoader)));
        Assert.Contains(typeof(FaceCropSpec), Dependencies(typeof(ImageCaches)));
        // A table without Loading's use of Layout reports it.
        var withoutLayout = new Dictionary<string, string[]>(Allowed) { ["Data/Loading"] = ["Core", "Platform", "Data/Faces"] };
        Assert.Contains("MaskLab.Data.Loading.BatchLoader (Data/Loading) uses MaskLab.Data.Layout.Sample (Data/Layout)",
            StageViolations([typeof(BatchLoader)], withoutLayout));

        // Across assemblies: the CLI starts the dashboard, the dashboard reads the library.
        Assert.Contains(typeof(DashboardServer), Dependencies(typeof(ServeCommand)));
        Assert.Contains(typeof(ImageCache), Dependencies(typeof(PhotoTrial)));
    }

    /// <summary>
    /// Every file under src/MaskLab has the namespace of its stage's folder path: MaskLab.Data.Faces for
    /// Data/Faces/x.cs. A folder inside a stage that is no stage itself (Training/Callbacks) keeps the stage's namespace.
    /// </summary>
    [Fact]
    public void Every_source_file_sits_in_the_folder_of_its_namespace()
    {
        var src = Path.Combine(RepoRoot.Path, "src", "MaskLab");
        var files = 0;
        foreach (var file in Directory.GetFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(src, file).Replace(Path.DirectorySeparatorChar, '/');
            if (rel.StartsWith("obj/", StringComparison.Ordinal) || rel.StartsWith("bin/", StringComparison.Ordinal)) continue;
            var folders = rel.Split('/')[..^1];
            var stage = Enumerable.Range(1, folders.Length).Reverse()
                .Select(n => string.Join('/', folders[..n]))
                .FirstOrDefault(Allowed.ContainsKey);
            Assert.True(stage is not null, $"{rel} is outside the pipeline's folders");
            var ns = File.ReadLines(file).FirstOrDefault(l => l.StartsWith("namespace ", StringComparison.Ordinal));
            Assert.True($"namespace MaskLab.{stage.Replace('/', '.')};" == ns, $"{rel} has '{ns}', not the namespace of {stage}/");
            files++;
        }
        Assert.True(files > 100, $"only {files} source files found under {src}");
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
