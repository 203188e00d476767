using MaskLab.Platform;
using TorchSharp;

namespace MaskLab.Tests;

public sealed class LibTorchRuntimeTests : IDisposable
{
    readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    static LibTorchFolder BundledFolder => LibTorchRuntime.Bundled ?? throw new InvalidOperationException("the test build carries libtorch");

    /// <summary>
    /// A libtorch-looking folder <c>ROOT/torch/lib</c> whose files are the bundled libtorch's real ELF objects under
    /// the given names: symbolic links (as Debian's torch/lib has), or copies.
    /// </summary>
    string FakeTorchLib(string root, string? version, bool links = true, string? cudaVersion = null, params (string Name, string From)[] files)
    {
        var lib = Directory.CreateDirectory(_dir.Combine(root, "torch", "lib")).FullName;
        foreach (var (name, from) in files)
        {
            var source = Path.Combine(BundledFolder.Path, from);
            var target = Path.Combine(lib, name);
            if (links) File.CreateSymbolicLink(target, source);
            else File.Copy(source, target);
        }
        if (version is not null)
            File.WriteAllLines(Path.Combine(lib, "..", "version.py"),
                ["from typing import Optional", $"__version__ = '{version}'", "debug = False",
                 cudaVersion is null ? "cuda: Optional[str] = None" : $"cuda: Optional[str] = '{cudaVersion}'"]);
        return lib;
    }

    /// <summary>The bundled libtorch's three libraries, linked from another folder: what TorchSharp can run on.</summary>
    string Good(string root, string version, string? cudaVersion = null) => FakeTorchLib(root, version, true, cudaVersion,
        ("libc10.so", "libc10.so"), ("libtorch_cpu.so", "libtorch_cpu.so"), ("libtorch.so", "libtorch.so"));

    /// <summary>libc10 and libtorch are real, but "libtorch_cpu.so" is the tiny libtorch.so: most functions are missing.</summary>
    string Incompatible(string root, bool links = false) => FakeTorchLib(root, "1.13.0a0", links, null,
        ("libc10.so", "libc10.so"), ("libtorch_cpu.so", "libtorch.so"), ("libtorch.so", "libtorch.so"));

    [Fact]
    public void TheBundledLibtorchIsTheOneTorchSharpWasBuiltFor()
    {
        Assert.Equal("2.10.0", TorchSharpBuild.LibTorchVersion);
        Assert.Equal("0.107.0", TorchSharpBuild.Version);
        Assert.True(BundledFolder.HasCore);
        Assert.False(BundledFolder.HasCuda);
        Assert.Null(BundledFolder.Incompatibility());
    }

    [Fact]
    public void TorchSharpNeedsOverAThousandLibtorchFunctions()
    {
        var needed = ElfSymbols.StrongUnversionedImports(Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so"));
        Assert.InRange(needed.Count, 1000, 5000);
        Assert.Contains("_ZN2at11accelerator14getAcceleratorEb", needed);
        // glibc's and libstdc++'s symbols carry versions; weak references may stay unresolved.
        Assert.DoesNotContain("malloc", needed);
        Assert.DoesNotContain("__gmon_start__", needed);
    }

    [Fact]
    public void AnIncompatibleLibtorchGetsOneLineNamingBothVersions()
    {
        var why = new LibTorchFolder(Incompatible("old")).Incompatibility();
        Assert.NotNull(why);
        Assert.StartsWith("libtorch 1.13.0a0 at ", why);
        Assert.Contains("cannot run TorchSharp 0.107.0 (built for libtorch 2.10.0)", why);
        Assert.Matches(@": \d+ of the \d+ libtorch functions it calls are missing, e\.g\. _Z", why);
        Assert.DoesNotContain('\n', why);
    }

    [Fact]
    public void LibrariesBehindSymbolicLinksAreRead()
    {
        // Debian's torch/lib holds links into /usr/lib; the link's own size must not be taken for the file's.
        var folder = new LibTorchFolder(Incompatible("linked", links: true));
        Assert.True(folder.HasCore);
        Assert.Contains("functions it calls are missing", folder.Incompatibility());
    }

    [Fact]
    public void AFileThatIsNoSharedLibraryIsNamedInOneLine()
    {
        var file = _dir.Combine("libc10.so");
        File.WriteAllText(file, new string('x', 200));
        var e = Assert.Throws<MaskLabInputException>(() => ElfSymbols.StrongUnversionedImports(file));
        Assert.Equal($"'{file}' cannot be read as a shared library: not an ELF file", e.Message);
    }

    [Fact]
    public void VersionsComeFromTheDistributionsOwnRecords()
    {
        var py = new LibTorchFolder(FakeTorchLib("py", "2.11.0+cu130", cudaVersion: "13.0"));
        Assert.False(py.HasCore);
        Assert.Equal("2.11.0+cu130", py.Version);
        Assert.Equal("13.0", py.CudaVersion);

        var zip = Directory.CreateDirectory(_dir.Combine("libtorch", "lib")).FullName;
        File.WriteAllText(_dir.Combine("libtorch", "build-version"), "2.10.0+cu128\n");
        Assert.Equal("2.10.0+cu128", new LibTorchFolder(zip).Version);

        var native = Directory.CreateDirectory(_dir.Combine("libtorch-cpu-linux-x64", "2.10.0", "runtimes", "linux-x64", "native")).FullName;
        File.WriteAllText(_dir.Combine("libtorch-cpu-linux-x64", "2.10.0", "libtorch-cpu-linux-x64.nuspec"),
            "<package><metadata><id>libtorch-cpu-linux-x64</id><version>2.10.0</version></metadata></package>");
        Assert.Equal("2.10.0", new LibTorchFolder(native).Version);

        Assert.Null(new LibTorchFolder(Directory.CreateDirectory(_dir.Combine("bare")).FullName).Version);
    }

    static string? NoPython() => throw new InvalidOperationException("python3 must not be asked");
    static string? Compatible(LibTorchFolder _) => null;

    [Fact]
    public void ABuildWithItsOwnLibtorchRunsOnItWithoutAskingPython()
    {
        var chosen = LibTorchRuntime.Choose(null, BundledFolder, NoPython, Compatible);
        Assert.Equal(LibTorchSource.Bundled, chosen.Source);
        Assert.StartsWith("bundled libtorch 2.10.0 (CPU build)", chosen.Describe());
        Assert.Equal(LibTorchSource.Bundled, LibTorchRuntime.Choose(BundledFolder.Path, BundledFolder, NoPython, Compatible).Source);
    }

    [Fact]
    public void ABuildWithItsOwnLibtorchRefusesAnotherOne()
    {
        // TorchSharp would load the bundled libtorch_cpu.so by path beside the other one, which aborts the process.
        var other = Good("other", "2.10.0");
        var e = Assert.Throws<MaskLabInputException>(() => LibTorchRuntime.Choose(other, BundledFolder, NoPython, Compatible));
        Assert.StartsWith("MASKLAB_LIBTORCH is set, but this build carries its own CPU libtorch", e.Message);
        Assert.Contains("-p:MaskLabLibTorch=none", e.Message);
    }

    [Fact]
    public void WithoutABundledLibtorchTheVariableComesFirst()
    {
        var good = Good("good", "2.11.0");
        var chosen = LibTorchRuntime.Choose(good, null, NoPython, f => f.Incompatibility());
        Assert.Equal(LibTorchSource.Variable, chosen.Source);
        Assert.Equal(Path.GetFullPath(good), chosen.Folder.Path);
        Assert.Equal("2.11.0", chosen.Version);
        Assert.Equal($"libtorch 2.11.0 (CPU build) from MASKLAB_LIBTORCH={Path.GetFullPath(good)}", chosen.Describe());
    }

    [Fact]
    public void AVariableThatNamesNoUsableLibtorchIsAOneLineError()
    {
        var missing = _dir.Combine("nowhere");
        Assert.Equal($"MASKLAB_LIBTORCH='{missing}': no such folder",
            Assert.Throws<MaskLabInputException>(() => LibTorchRuntime.Choose(missing, null, NoPython, Compatible)).Message);
        var empty = Directory.CreateDirectory(_dir.Combine("empty")).FullName;
        Assert.StartsWith($"MASKLAB_LIBTORCH='{empty}' holds no libtorch",
            Assert.Throws<MaskLabInputException>(() => LibTorchRuntime.Choose(empty, null, NoPython, Compatible)).Message);
        var old = Incompatible("old");
        var e = Assert.Throws<MaskLabInputException>(() => LibTorchRuntime.Choose(old, null, NoPython, f => f.Incompatibility()));
        Assert.Contains("libtorch 1.13.0a0", e.Message);
        Assert.Contains("built for libtorch 2.10.0", e.Message);
    }

    [Fact]
    public void WithoutEitherPythonsPyTorchIsUsedWhenTorchSharpCanRunOnIt()
    {
        var good = Good("site", "2.11.0+cu130", "13.0");
        var chosen = LibTorchRuntime.Choose(null, null, () => good, f => f.Incompatibility());
        Assert.Equal(LibTorchSource.Python, chosen.Source);
        Assert.Contains("of python3's PyTorch", chosen.Describe());

        var old = Incompatible("debian");
        var e = Assert.Throws<MaskLabInputException>(() => LibTorchRuntime.Choose(null, null, () => old, f => f.Incompatibility()));
        Assert.StartsWith("libtorch 1.13.0a0 at ", e.Message);

        var none = Assert.Throws<MaskLabInputException>(() => LibTorchRuntime.Choose(null, null, () => null, Compatible));
        Assert.StartsWith("no libtorch found: this build carries none; set MASKLAB_LIBTORCH", none.Message);
    }

    [Fact]
    public void ALibtorchOnTheLibraryPathIsLeftToTheSystemLoaderBeforePythonIsAsked()
    {
        var good = Good("ld", "2.11.0");
        var chosen = LibTorchRuntime.Choose(null, null, NoPython, f => f.Incompatibility(), $"/nonexistent:{_dir.Path}:{good}");
        Assert.Equal(LibTorchSource.LibraryPath, chosen.Source);
        Assert.Equal(Path.GetFullPath(good), chosen.Folder.Path);
        var old = Incompatible("old");
        Assert.Contains("libtorch 1.13.0a0",
            Assert.Throws<MaskLabInputException>(() => LibTorchRuntime.Choose(null, null, NoPython, f => f.Incompatibility(), old)).Message);
        // A bundled libtorch still comes first.
        Assert.Equal(LibTorchSource.Bundled, LibTorchRuntime.Choose(null, BundledFolder, NoPython, Compatible, good).Source);
    }

    [Fact]
    public void AMissingPythonIsNoPyTorch() =>
        Assert.Null(LibTorchRuntime.PythonTorchLib("/nonexistent/python3"));

    [Fact]
    public void TheLibtorchInThisProcessIsFoundInItsMemoryMap()
    {
        using (var t = torch.ones(1)) Assert.Equal(1f, t.item<float>());
        var loaded = LibTorchRuntime.Loaded!;
        Assert.Equal(LibTorchSource.Bundled, loaded.Source);
        Assert.Equal(BundledFolder.Path, loaded.Folder.Path);
        Assert.Equal(Path.Combine(BundledFolder.Path, "libtorch_cpu.so"), LibTorchRuntime.LoadedLibrary("libtorch_cpu.so"));
        Assert.Null(LibTorchRuntime.LoadedLibrary("libtorch_cuda.so"));
    }
}
