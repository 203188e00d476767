using System.Reflection;
using System.Text.RegularExpressions;

namespace MaskLab.Platform;

/// <summary>
/// A folder holding libtorch's shared libraries: the <c>torch/lib</c> of a PyTorch install, the <c>lib</c> of a
/// libtorch download, a NuGet libtorch package's native folder, or the app's own folder when it carries one.
/// </summary>
public sealed partial class LibTorchFolder
{
    /// <summary>What libLibTorchSharp.so links against (its NEEDED entries), in an order where each one's libtorch
    /// dependencies come before it.</summary>
    static readonly string[] Core = ["libc10.so", "libtorch_cpu.so", "libtorch.so"];

    /// <summary>Present only in CUDA builds; loaded before libtorch.so, which names them in PyTorch's builds.</summary>
    static readonly string[] CudaParts = ["libc10_cuda.so", "libtorch_cuda.so"];

    public LibTorchFolder(string path)
    {
        Path = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(path));
    }

    public string Path { get; }

    /// <summary>libc10.so, libtorch_cpu.so and libtorch.so are all there.</summary>
    public bool HasCore => Core.All(f => File.Exists(Combine(f)));

    /// <summary>libtorch_cuda.so is there: a CUDA build.</summary>
    public bool HasCuda => File.Exists(Combine("libtorch_cuda.so"));

    /// <summary>The files to load, in order; the CUDA parts only where present.</summary>
    public IReadOnlyList<string> LoadOrder =>
        [Combine("libc10.so"), Combine("libtorch_cpu.so"),
         .. CudaParts.Select(Combine).Where(File.Exists), Combine("libtorch.so")];

    /// <summary>The libraries whose exports TorchSharp's native part may call.</summary>
    public IReadOnlyList<string> Libraries => [.. Core.Select(Combine), .. CudaParts.Select(Combine).Where(File.Exists)];

    string Combine(string file) => System.IO.Path.Combine(Path, file);

    /// <summary>
    /// The libtorch version as the folder's distribution records it: PyTorch's <c>torch/version.py</c>, libtorch's
    /// <c>build-version</c>, or the NuGet package's .nuspec; null where none says.
    /// </summary>
    public string? Version => _version ??= ReadVersion();
    string? _version;

    /// <summary>The CUDA version a PyTorch build was made for (version.py's <c>cuda</c>), null for others.</summary>
    public string? CudaVersion => ReadVersionPy()?.Cuda;

    string? ReadVersion()
    {
        if (ReadVersionPy() is { Version: { } v }) return v;
        var buildVersion = System.IO.Path.Combine(Path, "..", "build-version");
        if (File.Exists(buildVersion))
        {
            var line = File.ReadLines(buildVersion).FirstOrDefault()?.Trim();
            if (!string.IsNullOrEmpty(line)) return line;
        }
        // NuGet's layout: <id>/<version>/runtimes/<rid>/native
        var packageRoot = System.IO.Path.GetFullPath(System.IO.Path.Combine(Path, "..", "..", ".."));
        if (Directory.Exists(packageRoot))
            foreach (var nuspec in Directory.EnumerateFiles(packageRoot, "*.nuspec"))
                if (NuspecVersion().Match(File.ReadAllText(nuspec)) is { Success: true } m) return m.Groups[1].Value;
        return null;
    }

    (string? Version, string? Cuda)? ReadVersionPy()
    {
        var file = System.IO.Path.Combine(Path, "..", "version.py");
        if (!File.Exists(file)) return null;
        string? version = null, cuda = null;
        foreach (var line in File.ReadLines(file))
        {
            if (PyAssignment().Match(line) is not { Success: true } m) continue;
            if (m.Groups[1].Value == "__version__") version = m.Groups[2].Value;
            else if (m.Groups[1].Value == "cuda") cuda = m.Groups[2].Value;
        }
        return (version, cuda);
    }

    [GeneratedRegex(@"^(__version__|cuda)\s*(?::[^=]*)?=\s*['""]([^'""]+)['""]")]
    private static partial Regex PyAssignment();

    [GeneratedRegex(@"<version>\s*([^<\s]+)\s*</version>")]
    private static partial Regex NuspecVersion();

    /// <summary>
    /// Why TorchSharp's native part cannot run on this libtorch, in one line naming both versions; null when every
    /// libtorch function it calls is exported here. <paramref name="libTorchSharp"/> is the libLibTorchSharp.so to
    /// check (the app's own by default); when it is absent nothing can be checked and null is returned.
    /// </summary>
    /// <remarks>
    /// Comparing symbol names catches other releases (functions added, removed or changed in signature) and builds
    /// with the other C++ string ABI, the usual ways a libtorch does not fit; it cannot see a changed struct layout
    /// behind an unchanged name.
    /// </remarks>
    public string? Incompatibility(string? libTorchSharp = null)
    {
        libTorchSharp ??= System.IO.Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        if (!File.Exists(libTorchSharp)) return null;
        var wanted = ElfSymbols.StrongUnversionedImports(libTorchSharp);
        var missing = ElfSymbols.Missing(wanted, Libraries);
        if (missing.Count == 0) return null;
        var example = missing.Order(StringComparer.Ordinal).First();
        return $"libtorch {Version ?? "(version unknown)"} at {Path} cannot run TorchSharp {TorchSharpBuild.Version} " +
               $"(built for libtorch {TorchSharpBuild.LibTorchVersion}): {missing.Count} of the {wanted.Count} libtorch " +
               $"functions it calls are missing, e.g. {example}";
    }

    public override string ToString() => Path;
}

/// <summary>The TorchSharp in use and the libtorch it was built for, read without initialising TorchSharp.</summary>
internal static class TorchSharpBuild
{
    static Assembly Assembly => typeof(TorchSharp.torch).Assembly;

    /// <summary>TorchSharp's package version, e.g. 0.107.0.</summary>
    public static string Version =>
        (Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? Assembly.GetName().Version?.ToString() ?? "?")
        .Split('+')[0];

    /// <summary>
    /// The libtorch release TorchSharp's native part was compiled against, e.g. 2.10.0. TorchSharp keeps it in a
    /// private constant; reading a constant's metadata runs no static constructor, so nothing native is loaded.
    /// </summary>
    public static string LibTorchVersion
    {
        get
        {
            var raw = typeof(TorchSharp.torch).GetField("libtorchPackageVersion", BindingFlags.NonPublic | BindingFlags.Static)
                ?.GetRawConstantValue() as string;
            if (raw is null) return "unknown";
            var parts = raw.Split('.');
            return parts.Length == 4 && parts[3] == "0" ? string.Join('.', parts[..3]) : raw;
        }
    }
}
