using System.Globalization;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Platform;

/// <summary>What decides where a run can go: whether the libtorch in use is a CUDA build, and the GPUs it sees.</summary>
public readonly record struct CudaFacts(bool CudaLibTorch, bool Available, int DeviceCount);

/// <summary>A <see cref="DeviceChoice"/> made concrete: the device, why it was taken, and what it is.</summary>
public sealed record ResolvedDevice(Device Device, string Reason, DeviceInfo Info)
{
    public bool IsCuda => Device.type == DeviceType.CUDA;
}

/// <summary>Turns the <c>device</c> setting into a device, or a one-line error saying why it cannot be had.</summary>
public static class DeviceResolution
{
    /// <summary>
    /// Resolves <paramref name="choice"/> on the libtorch loaded by <see cref="LibTorchRuntime.Load"/> (which
    /// must have run first when it is to choose the libtorch). Initialises TorchSharp.
    /// </summary>
    public static ResolvedDevice Resolve(DeviceChoice choice)
    {
        var libtorch = LibTorchRuntime.Loaded ?? LibTorchRuntime.Load();
        var facts = Facts(libtorch);
        var (type, index, reason) = Decide(choice, facts, libtorch.Describe());
        var device = new Device(type, index);
        return new ResolvedDevice(device, reason, DeviceInfo.Of(device, libtorch, reason));
    }

    /// <summary>What the loaded libtorch sees. On a CPU build no CUDA call is made.</summary>
    public static CudaFacts Facts(LibTorchLocation libtorch)
    {
        bool cudaBuild = libtorch.HasCuda || LibTorchRuntime.LoadedLibrary("libtorch_cuda.so") is not null;
        if (!cudaBuild) return new CudaFacts(false, false, 0);
        bool available = torch.cuda.is_available();
        return new CudaFacts(true, available, available ? torch.cuda.device_count() : 0);
    }

    /// <summary>
    /// The decision alone: device type, index (-1 for the CPU) and the reason for the log; throws
    /// <see cref="MaskLabInputException"/> naming why when cuda is asked for and cannot be had.
    /// </summary>
    internal static (DeviceType Type, int Index, string Reason) Decide(DeviceChoice choice, CudaFacts facts, string libtorch)
    {
        switch (choice.Kind)
        {
            case DeviceTarget.Cpu:
                return (DeviceType.CPU, -1, "device cpu asked for");
            case DeviceTarget.Auto:
                if (facts.CudaLibTorch && facts.Available && facts.DeviceCount > 0) return (DeviceType.CUDA, 0, "auto: a GPU is visible");
                return (DeviceType.CPU, -1, facts.CudaLibTorch
                    ? $"auto: no GPU visible to the CUDA libtorch{VisibleDevicesHint()}"
                    : "auto: no CUDA libtorch loaded");
        }
        if (!facts.CudaLibTorch)
            throw new MaskLabInputException(
                $"device '{choice}': no CUDA libtorch loaded ({libtorch}); {(LibTorchRuntime.Bundled is null
                    ? $"set {LibTorchRuntime.FolderVariable} to the torch/lib folder of a CUDA PyTorch, or install one for python3"
                    : $"a build without the bundled CPU libtorch (scripts/gpu-kit.sh, or -p:MaskLabLibTorch=none) runs on the libtorch that {LibTorchRuntime.FolderVariable} names or on python3's PyTorch")}");
        if (!facts.Available || facts.DeviceCount == 0)
            throw new MaskLabInputException($"device '{choice}': no GPU visible to the CUDA libtorch ({libtorch}){VisibleDevicesHint()}");
        int index = choice.Index ?? 0;
        if (index >= facts.DeviceCount)
            throw new MaskLabInputException(
                $"device '{choice}': index out of range, {facts.DeviceCount} GPU{(facts.DeviceCount == 1 ? "" : "s")} visible (cuda:0{(facts.DeviceCount > 1 ? $"..cuda:{facts.DeviceCount - 1}" : "")})");
        return (DeviceType.CUDA, index, choice.Index is null ? "device cuda asked for" : $"device {choice} asked for");
    }

    static string VisibleDevicesHint() =>
        Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES") is { } v ? $" (CUDA_VISIBLE_DEVICES='{v}')" : "";
}

/// <summary>What a run ran on, for the log and metadata.json.</summary>
/// <param name="Device">e.g. cpu, cuda:0.</param>
/// <param name="Name">The GPU's name (nvidia-smi); null on the CPU or without nvidia-smi.</param>
/// <param name="Driver">The NVIDIA driver version (nvidia-smi).</param>
/// <param name="CudaVersion">The CUDA release the libtorch was built for, where its distribution says.</param>
/// <param name="MemoryMiB">The GPU's memory (nvidia-smi).</param>
public sealed record DeviceInfo(string Device, string Reason, string? Name, string? Driver, string? CudaVersion, long? MemoryMiB,
    string? LibTorchVersion, string LibTorchSource, string LibTorchFolder, string TorchSharpVersion)
{
    public static DeviceInfo Of(Device device, LibTorchLocation libtorch, string reason)
    {
        var gpu = device.type == DeviceType.CUDA ? NvidiaSmi.Query(Math.Max(device.index, 0)) : null;
        return new DeviceInfo(device.type == DeviceType.CUDA ? $"cuda:{Math.Max(device.index, 0)}" : "cpu", reason,
            gpu?.Name, gpu?.Driver, libtorch.CudaVersion, gpu?.MemoryMiB,
            libtorch.Version, libtorch.SourceName, libtorch.Folder.Path, TorchSharpBuild.Version);
    }

    /// <summary>One line for the log, e.g. "device cuda:0 (NVIDIA H200, 143771 MiB, driver 570.1); libtorch 2.11.0 ... (auto: a GPU is visible)".</summary>
    public string Describe()
    {
        var card = Name is null ? "" : $" ({Name}{(MemoryMiB is { } m ? $", {m} MiB" : "")}{(Driver is null ? "" : $", driver {Driver}")})";
        return $"{Device}{card}; libtorch {LibTorchVersion ?? "(version unknown)"}{(CudaVersion is null ? "" : $" CUDA {CudaVersion}")} ({LibTorchSource}); {Reason}";
    }

    /// <summary>The object metadata.json records under "device".</summary>
    public JsonObject ToJson() => new()
    {
        ["device"] = Device,
        ["reason"] = Reason,
        ["name"] = Name,
        ["driver"] = Driver,
        ["cuda"] = CudaVersion,
        ["memory_mib"] = MemoryMiB,
        ["libtorch_version"] = LibTorchVersion,
        ["libtorch_source"] = LibTorchSource,
        ["libtorch_folder"] = LibTorchFolder,
        ["torchsharp_version"] = TorchSharpVersion,
    };
}

/// <summary>The GPU's name, driver and memory from <c>nvidia-smi</c>; TorchSharp 0.107 exposes none of them.</summary>
internal static class NvidiaSmi
{
    public sealed record Gpu(string Name, string Driver, long? MemoryMiB);

    /// <summary>
    /// The GPU that CUDA numbers <paramref name="cudaIndex"/>, or null without nvidia-smi. CUDA counts only the
    /// GPUs in CUDA_VISIBLE_DEVICES, so the index is mapped through it; where CUDA's order differs from the PCI
    /// order nvidia-smi uses (CUDA_DEVICE_ORDER unset on a machine with mixed GPUs) the name may be another GPU's.
    /// </summary>
    public static Gpu? Query(int cudaIndex)
    {
        var id = cudaIndex.ToString(CultureInfo.InvariantCulture);
        if (Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES") is { Length: > 0 } visible)
        {
            var ids = visible.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (cudaIndex < ids.Length) id = ids[cudaIndex];
        }
        var output = ChildProcess.Output("nvidia-smi", ["--query-gpu=name,driver_version,memory.total", "--format=csv,noheader,nounits", "-i", id], 10_000);
        return output is null ? null : Parse(output);
    }

    /// <summary>Reads one line of <c>name, driver, memory</c> as nvidia-smi's CSV writes it.</summary>
    internal static Gpu? Parse(string csv)
    {
        var line = csv.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        if (line is null) return null;
        var fields = line.Split(',', StringSplitOptions.TrimEntries);
        if (fields.Length < 3 || fields[0].Length == 0) return null;
        long? memory = long.TryParse(fields[^1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var m) ? m : null;
        // A name could hold a comma; the last two fields never do.
        return new Gpu(string.Join(", ", fields[..^2]), fields[^2], memory);
    }
}
