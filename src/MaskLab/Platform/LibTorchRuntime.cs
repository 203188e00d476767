using System.Runtime.InteropServices;

namespace MaskLab.Platform;

/// <summary>Where the libtorch in use came from.</summary>
public enum LibTorchSource
{
    /// <summary>The CPU libtorch that the build carries beside the app (NuGet's libtorch-cpu).</summary>
    Bundled,
    /// <summary>The folder named by <c>MASKLAB_LIBTORCH</c>.</summary>
    Variable,
    /// <summary>The PyTorch installation of <c>python3</c>.</summary>
    Python,
    /// <summary>Found by the system's loader through LD_LIBRARY_PATH (or already in the process before MaskLab chose).</summary>
    LibraryPath,
}

/// <summary>The libtorch a process runs on.</summary>
public sealed record LibTorchLocation(LibTorchSource Source, LibTorchFolder Folder)
{
    public string? Version => Source == LibTorchSource.Bundled ? TorchSharpBuild.LibTorchVersion : Folder.Version;
    public bool HasCuda => Folder.HasCuda;
    public string? CudaVersion => Folder.CudaVersion;

    /// <summary>One phrase for the log, e.g. "libtorch 2.11.0+cu130 (CUDA 13.0) of python3's PyTorch, /x/torch/lib".</summary>
    public string Describe()
    {
        var what = $"libtorch {Version ?? "(version unknown)"}" + (HasCuda ? $" (CUDA {CudaVersion ?? "build"})" : " (CPU build)");
        return Source switch
        {
            LibTorchSource.Bundled => $"bundled {what}",
            LibTorchSource.Variable => $"{what} from {LibTorchRuntime.FolderVariable}={Folder.Path}",
            LibTorchSource.Python => $"{what} of python3's PyTorch, {Folder.Path}",
            _ => $"{what} from the library path (LD_LIBRARY_PATH), {Folder.Path}",
        };
    }

    public string SourceName => Source switch
    {
        LibTorchSource.Bundled => "bundled",
        LibTorchSource.Variable => LibTorchRuntime.FolderVariable,
        LibTorchSource.Python => "python3",
        _ => "LD_LIBRARY_PATH",
    };
}

/// <summary>
/// Chooses and loads the libtorch the process runs on, before TorchSharp first touches it: the CPU libtorch the
/// build carries, else the folder named by <c>MASKLAB_LIBTORCH</c>, else one on LD_LIBRARY_PATH (left to the system's
/// loader), else the PyTorch of <c>python3</c>.
/// </summary>
/// <remarks>
/// <para>TorchSharp loads libLibTorchSharp.so by name, and that library asks for libtorch.so, libc10.so and
/// libtorch_cpu.so by name. The dynamic loader reuses a library already in the process whose name matches, so
/// loading another libtorch's files by full path first makes TorchSharp run on them, with no LD_LIBRARY_PATH and
/// no restart. A CUDA build's own RPATHs find the CUDA runtime libraries.</para>
/// <para>That works only in a build that carries no libtorch of its own (<c>-p:MaskLabLibTorch=none</c>, the GPU
/// kit): TorchSharp's static constructor also loads "torch_cpu" by name, and .NET looks for that by full path in the
/// app's folder first, which would bring a second libtorch into the process beside the chosen one (measured: the
/// process aborts when both register their operators). So a build with the bundled libtorch always runs on it.</para>
/// <para>Nothing here can be undone: a library once loaded stays. So a candidate is checked before it is loaded
/// (<see cref="LibTorchFolder.Incompatibility"/>), and the first <see cref="Load"/> decides for the process.</para>
/// </remarks>
public static class LibTorchRuntime
{
    public const string FolderVariable = "MASKLAB_LIBTORCH";

    static readonly Lock Gate = new();
    static LibTorchLocation? _loaded;

    /// <summary>What <see cref="Load"/> chose, or what TorchSharp loaded on its own when Load was not called first; null before either.</summary>
    public static LibTorchLocation? Loaded
    {
        get { lock (Gate) return _loaded ?? InProcess(); }
    }

    /// <summary>The app's own folder when it carries libtorch (the default build), else null (the GPU kit).</summary>
    public static LibTorchFolder? Bundled
    {
        get
        {
            var folder = new LibTorchFolder(AppContext.BaseDirectory);
            return folder.HasCore ? folder : null;
        }
    }

    /// <summary>
    /// Chooses the libtorch and loads it; call before anything touches TorchSharp. The first call decides for the
    /// process; later calls return the same. Throws <see cref="MaskLabInputException"/> with one line when the
    /// chosen libtorch is unusable (naming its version and the one TorchSharp was built for) or none is found.
    /// </summary>
    public static LibTorchLocation Load()
    {
        lock (Gate)
        {
            if (_loaded is not null) return _loaded;
            if (InProcess() is { } already) return _loaded = already;
            var choice = Choose(Environment.GetEnvironmentVariable(FolderVariable), Bundled,
                () => PythonTorchLib("python3"), f => f.Incompatibility(), Environment.GetEnvironmentVariable("LD_LIBRARY_PATH"));
            if (choice.Source is LibTorchSource.Variable or LibTorchSource.Python) Preload(choice.Folder);
            return _loaded = choice;
        }
    }

    /// <summary>
    /// The decision of <see cref="Load"/>, apart from loading: <paramref name="variable"/> is MASKLAB_LIBTORCH's
    /// value, <paramref name="pythonLib"/> asks python3 for its PyTorch's library folder (asked only when needed),
    /// <paramref name="incompatibility"/> is <see cref="LibTorchFolder.Incompatibility"/>, <paramref name="libraryPath"/>
    /// is LD_LIBRARY_PATH's value.
    /// </summary>
    internal static LibTorchLocation Choose(string? variable, LibTorchFolder? bundled,
        Func<string?> pythonLib, Func<LibTorchFolder, string?> incompatibility, string? libraryPath = null)
    {
        if (!string.IsNullOrWhiteSpace(variable))
        {
            if (!Directory.Exists(variable))
                throw new MaskLabInputException($"{FolderVariable}='{variable}': no such folder");
            var folder = new LibTorchFolder(variable);
            if (bundled is not null && bundled.Path == folder.Path) return new LibTorchLocation(LibTorchSource.Bundled, bundled);
            if (bundled is not null)
                throw new MaskLabInputException(
                    $"{FolderVariable} is set, but this build carries its own CPU libtorch ({bundled.Path}), which TorchSharp loads in any case; use a build without it (scripts/gpu-kit.sh, or dotnet build -p:MaskLabLibTorch=none)");
            if (!folder.HasCore)
                throw new MaskLabInputException($"{FolderVariable}='{variable}' holds no libtorch: expected libc10.so, libtorch_cpu.so and libtorch.so (e.g. the torch/lib folder of a PyTorch install)");
            if (incompatibility(folder) is { } why) throw new MaskLabInputException(why);
            return new LibTorchLocation(LibTorchSource.Variable, folder);
        }
        if (bundled is not null) return new LibTorchLocation(LibTorchSource.Bundled, bundled);

        // A libtorch on LD_LIBRARY_PATH is loaded by the system's loader when TorchSharp asks for it by name.
        foreach (var entry in (libraryPath ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Directory.Exists(entry) || new LibTorchFolder(entry) is not { HasCore: true } onPath) continue;
            if (incompatibility(onPath) is { } why) throw new MaskLabInputException(why);
            return new LibTorchLocation(LibTorchSource.LibraryPath, onPath);
        }

        var lib = pythonLib();
        if (lib is not null && new LibTorchFolder(lib) is { HasCore: true } python)
        {
            if (incompatibility(python) is { } why) throw new MaskLabInputException(why);
            return new LibTorchLocation(LibTorchSource.Python, python);
        }
        throw new MaskLabInputException(
            $"no libtorch found: this build carries none; set {FolderVariable} to a libtorch library folder (e.g. the torch/lib of a PyTorch {TorchSharpBuild.LibTorchVersion} or later install) or install PyTorch for python3");
    }

    /// <summary>
    /// The library folder of the PyTorch that <paramref name="python"/> would import, without importing it
    /// (find_spec only locates the package; importing torch takes seconds); null when there is none or no such
    /// interpreter.
    /// </summary>
    internal static string? PythonTorchLib(string python, int timeoutMs = 15_000)
    {
        const string script = "import importlib.util as u, os; s = u.find_spec('torch'); " +
                              "print(os.path.join(s.submodule_search_locations[0], 'lib') if s and s.submodule_search_locations else '')";
        var lib = ChildProcess.Output(python, ["-c", script], timeoutMs)?.Trim();
        return !string.IsNullOrEmpty(lib) && Directory.Exists(lib) ? lib : null;
    }

    /// <summary>
    /// Loads the folder's libraries by full path, then answers TorchSharp's own loads by name ("torch_cpu",
    /// "torch_cuda") with them. Without that answer TorchSharp's load of torch_cpu would look in the app's folder
    /// first and, in a build that carries libtorch, load a second libtorch beside this one, which aborts the
    /// process when both register their operators.
    /// </summary>
    static void Preload(LibTorchFolder folder)
    {
        var handles = new Dictionary<string, nint>(StringComparer.Ordinal);
        foreach (var file in folder.LoadOrder)
        {
            try { handles[LibraryKey(Path.GetFileName(file))] = NativeLibrary.Load(file); }
            catch (DllNotFoundException e)
            {
                var why = e.Message.ReplaceLineEndings(" ");
                throw new MaskLabInputException($"libtorch at {folder.Path} does not load ({Path.GetFileName(file)}): {why}");
            }
        }
        NativeLibrary.SetDllImportResolver(typeof(TorchSharp.torch).Assembly,
            (name, _, _) => handles.TryGetValue(LibraryKey(name), out var handle) ? handle : 0);
    }

    /// <summary>"libtorch_cpu.so", "torch_cpu" and "libtorch_cpu" all name torch_cpu.</summary>
    static string LibraryKey(string name)
    {
        var key = Path.GetFileName(name);
        int so = key.IndexOf(".so", StringComparison.Ordinal);
        if (so > 0) key = key[..so];
        return key.StartsWith("lib", StringComparison.Ordinal) ? key[3..] : key;
    }

    /// <summary>
    /// The libtorch already mapped into this process (TorchSharp loaded one on its own, or the system's library
    /// path provided it), read from /proc/self/maps; null when none is.
    /// </summary>
    static LibTorchLocation? InProcess()
    {
        if (LoadedLibrary("libtorch_cpu.so") is not { } cpu) return null;
        var folder = new LibTorchFolder(Path.GetDirectoryName(cpu)!);
        var bundled = Bundled;
        return bundled is not null && bundled.Path == folder.Path
            ? new LibTorchLocation(LibTorchSource.Bundled, bundled)
            : new LibTorchLocation(LibTorchSource.LibraryPath, folder);
    }

    /// <summary>The full path of a library mapped into this process whose file name is <paramref name="fileName"/> (or fileName.N...); null if none.</summary>
    public static string? LoadedLibrary(string fileName)
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps)) return null;
        foreach (var line in File.ReadLines(maps))
        {
            int slash = line.IndexOf('/');
            if (slash < 0) continue;
            var path = line[slash..];
            var name = Path.GetFileName(path);
            if (name == fileName || name.StartsWith(fileName + ".", StringComparison.Ordinal)) return path;
        }
        return null;
    }
}
