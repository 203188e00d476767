using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;


namespace MaskLab.Runs;

/// <summary>
/// RUNDIR/metadata.json: what made a run (resolved config, code version, data fingerprint, machine, package
/// versions) and when it ran, so that a result found weeks later can be traced and repeated.
/// </summary>
public static class RunMetadata
{
    /// <summary>Writes the file at the start of a run; <paramref name="dataFiles"/> are the photos it reads.</summary>
    /// <param name="device">The device the run trains on (card, driver, libtorch).</param>
    /// <param name="sections">More top-level entries, e.g. how the photos were prepared (face_crop, label_fixes, pseudo_labels).</param>
    public static JsonObject WriteStart(RunDirectory run, RunConfig config, IEnumerable<string> dataFiles, DateTimeOffset? start = null,
        JsonObject? device = null, JsonObject? sections = null)
    {
        var o = new JsonObject
        {
            ["start_time"] = (start ?? DateTimeOffset.UtcNow).ToString("O", CultureInfo.InvariantCulture),
            ["end_time"] = null,
            ["config"] = ConfigObject(config),
            // What the model starts from and the input it expects: eval and predict apply the same through the config.
            ["starting_weights"] = config.EmbeddedWeights?.Description ?? (config.Weights is { Length: > 0 } w ? w : "random initialisation"),
            ["input_normalization"] = config.Input?.ToString() ?? "task: per-channel mean and std of the competition photos",
            ["git"] = GitInfo(),
            ["data"] = DataFingerprint(dataFiles),
            ["machine"] = Machine(),
            ["device"] = device,
            ["packages"] = Packages(),
            ["command_line"] = string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
        };
        if (sections is not null)
            foreach (var (key, value) in sections.ToList())
            {
                sections.Remove(key);
                o[key] = value;
            }
        Save(run, o);
        return o;
    }

    /// <summary>Stamps the end time (and wall-clock seconds) into the file written by <see cref="WriteStart"/>.</summary>
    public static void WriteEnd(RunDirectory run, DateTimeOffset? end = null)
    {
        var o = Read(run) ?? new JsonObject();
        var stop = end ?? DateTimeOffset.UtcNow;
        o["end_time"] = stop.ToString("O", CultureInfo.InvariantCulture);
        if (o["start_time"]?.GetValue<string>() is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var started))
            o["wall_seconds"] = Math.Round((stop - started).TotalSeconds, 3);
        Save(run, o);
    }

    /// <summary>Seconds per phase of the last process that ran the run (a resumed run records its own).</summary>
    public static void WritePhases(RunDirectory run, Dictionary<string, double> seconds)
    {
        var o = Read(run) ?? new JsonObject();
        var phases = new JsonObject();
        foreach (var (phase, s) in seconds) phases[phase] = Math.Round(s, 3);
        o["phase_seconds"] = phases;
        Save(run, o);
    }

    public static JsonObject? Read(RunDirectory run)
    {
        var file = run.MetadataFile;
        if (!File.Exists(file)) return null;
        try { return JsonNode.Parse(InputFile.ReadAllText(file, "metadata", MaxBytes)) as JsonObject; }
        catch (JsonException e) { throw new MaskLabInputException($"'{file}' is not valid JSON: {e.Message}"); }
    }

    const long MaxBytes = 16L << 20;

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    static void Save(RunDirectory run, JsonObject o) => AtomicFile.WriteText(run.MetadataFile, w => w.Write(o.ToJsonString(Indented)));

    static JsonObject ConfigObject(RunConfig config)
    {
        var o = new JsonObject();
        foreach (var (k, v) in config.ToMap().OrderBy(p => p.Key, StringComparer.Ordinal)) o[k] = v;
        return o;
    }

    /// <summary>
    /// File count and a SHA-256 over the sorted (relative path, size) list: changes when a photo is added, removed,
    /// renamed or rewritten with another size, without reading every pixel.
    /// </summary>
    public static JsonObject DataFingerprint(IEnumerable<string> files)
    {
        var list = files.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).ToList();
        var root = CommonRoot(list);
        var lines = list.Select(f => (Rel: Path.GetRelativePath(root, f).Replace('\\', '/'), Size: File.Exists(f) ? new FileInfo(f).Length : -1))
            .OrderBy(x => x.Rel, StringComparer.Ordinal);
        long bytes = 0;
        var text = new StringBuilder();
        foreach (var (rel, size) in lines)
        {
            text.Append(rel).Append('\t').Append(size.ToString(CultureInfo.InvariantCulture)).Append('\n');
            bytes += Math.Max(size, 0);
        }
        return new JsonObject
        {
            ["root"] = root,
            ["files"] = list.Count,
            ["bytes"] = bytes,
            ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()))),
        };
    }

    static string CommonRoot(IReadOnlyList<string> files)
    {
        if (files.Count == 0) return "";
        var root = Path.GetDirectoryName(files[0]) ?? "";
        foreach (var f in files)
            while (root.Length > 0 && !f.StartsWith(root.TrimEnd('/') + "/", StringComparison.Ordinal))
                root = Path.GetDirectoryName(root) ?? "";
        return root;
    }

    static JsonObject Machine()
    {
        var gc = GC.GetGCMemoryInfo();
        return new JsonObject
        {
            ["host"] = Environment.MachineName,
            ["os"] = RuntimeInformation.OSDescription,
            ["cpu"] = CpuModel(),
            ["logical_cores"] = Environment.ProcessorCount,
            ["torch_threads"] = SafeTorchThreads(),
            ["memory_bytes"] = TotalMemoryBytes() ?? gc.TotalAvailableMemoryBytes,
            ["runtime"] = RuntimeInformation.FrameworkDescription,
        };
    }

    static int? SafeTorchThreads()
    {
        try { return TorchSharp.torch.get_num_threads(); }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or NotSupportedException) { return null; }
    }

    static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    static long? TotalMemoryBytes()
    {
        try
        {
            if (File.Exists("/proc/meminfo"))
                foreach (var line in File.ReadLines("/proc/meminfo"))
                    if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (Exception e) when (e is IOException or FormatException) { }
        return null;
    }

    static JsonObject Packages()
    {
        var o = new JsonObject { ["masklab"] = Version(typeof(RunMetadata).Assembly) };
        foreach (var (name, type) in new (string, Type)[]
                 {
                     ("TorchSharp", typeof(TorchSharp.torch)), ("TorchVision", typeof(TorchSharp.torchvision)),
                     ("SkiaSharp", typeof(SkiaSharp.SKBitmap)), ("YamlDotNet", typeof(YamlDotNet.Serialization.Serializer)),
                     ("CsvHelper", typeof(CsvHelper.CsvReader)), ("ScottPlot", typeof(ScottPlot.Plot)),
                 })
            o[name] = Version(type.Assembly);
        o["dotnet"] = Environment.Version.ToString();
        return o;
    }

    static string? Version(Assembly a) =>
        a.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? a.GetName().Version?.ToString();

    /// <summary>The commit and dirtiness of the checkout the program was built from (or the working folder's).</summary>
    static JsonObject GitInfo()
    {
        foreach (var dir in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            var commit = Git(dir, "rev-parse HEAD");
            if (commit is null) continue;
            var status = Git(dir, "status --porcelain --untracked-files=no");
            return new JsonObject { ["commit"] = commit, ["dirty"] = status is null ? null : status.Length > 0 };
        }
        return new JsonObject { ["commit"] = null, ["dirty"] = null };
    }

    static string? Git(string dir, string args)
    {
        try
        {
            var psi = new ProcessStartInfo("git", args)
            {
                WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            using var p = Process.Start(psi);
            if (p is null) return null;
            var output = p.StandardOutput.ReadToEndAsync();
            p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(5000)) { try { p.Kill(); } catch (InvalidOperationException) { } return null; }
            return p.ExitCode == 0 ? output.Result.Trim() : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null;
        }
    }
}
