using System.Runtime.InteropServices;

namespace MaskLab.Platform;

/// <summary>Process-wide native set-up, done once before the first tensor.</summary>
public static class NativeSetup
{
    const int M_TRIM_THRESHOLD = -1;
    const int M_MMAP_THRESHOLD = -3;

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int Mallopt(int param, int value);

    [DllImport("libc", EntryPoint = "malloc_trim")]
    static extern int MallocTrim(nuint pad);

    static int _done;

    /// <summary>
    /// Hands the heap's free memory back to the system. The thresholds set in <see cref="Initialize"/> keep freed
    /// buffers for reuse, which is right within a run but keeps a finished run's memory resident for the next.
    /// </summary>
    public static void ReleaseFreeMemory()
    {
        if (!OperatingSystem.IsLinux()) return;
        try { MallocTrim(0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { /* not glibc */ }
    }

    /// <summary>
    /// With glibc's defaults each training step unmaps and remaps the large activation buffers, which made
    /// resnet18 training almost 3x slower here. Raising the mmap and trim thresholds keeps freed buffers in
    /// the heap for reuse. Must run before libtorch allocates. Without <paramref name="threads"/>, a process inside a
    /// Slurm job takes as many libtorch threads as the job has CPUs (<see cref="CpuBudget"/>).
    /// </summary>
    public static void Initialize(int? threads = null)
    {
        if (Interlocked.Exchange(ref _done, 1) == 1) return;
        if (OperatingSystem.IsLinux())
        {
            try
            {
                Mallopt(M_MMAP_THRESHOLD, int.MaxValue);
                Mallopt(M_TRIM_THRESHOLD, int.MaxValue);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { /* not glibc */ }
        }
        threads ??= CpuBudget.Limit;
        if (threads is > 0) TorchSharp.torch.set_num_threads(threads.Value);
    }

    /// <summary>
    /// Flushes denormal floats to zero in this process from here on (unless <see cref="KeepDenormalsVariable"/> is 1).
    /// Call it on the main thread once libtorch is loaded and before any tensor work, so that libtorch's thread pool,
    /// started later from this thread, inherits the setting.
    /// </summary>
    public static void FlushDenormalsFromNowOn()
    {
        if (Environment.GetEnvironmentVariable(KeepDenormalsVariable) == "1") return;
        TorchSharp.torch.InitializeDeviceType(TorchSharp.DeviceType.CPU);
        FlushDenormals = SetFlushDenormal(true);
    }

    /// <summary>Set to 1 to keep denormal floats (to time what they cost: bench/epoch-speed.sh).</summary>
    public const string KeepDenormalsVariable = "MASKLAB_KEEP_DENORMALS";

    /// <summary>Whether this process flushes denormal floats to zero (see <see cref="SetFlushDenormal"/>).</summary>
    public static bool FlushDenormals { get; private set; }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate byte FlushDenormalFunction(byte on);

    /// <summary>
    /// libtorch's <c>torch.set_flush_denormal</c>, which TorchSharp does not expose: sets the CPU's flush-to-zero and
    /// denormals-are-zero modes (x86 MXCSR), on the calling thread and on every thread it starts afterwards, which
    /// includes libtorch's intra-op pool when called first from the thread that trains. Optimiser state decays
    /// towards the smallest floats (Adam's second moments of tiny gradients), and arithmetic on denormals costs
    /// tens to hundreds of cycles an operation on many Intel CPUs; flushing them changes results by less than
    /// 1e-38. Returns whether the CPU took the setting (libtorch answers false where it cannot).
    /// </summary>
    public static bool SetFlushDenormal(bool on)
    {
        var path = LibTorchRuntime.LoadedLibrary("libtorch_cpu.so");
        if (path is null || !NativeLibrary.TryLoad(path, out var handle)) return false;
        // at::Context::setFlushDenormal is a static member function: one bool argument, no this.
        if (!NativeLibrary.TryGetExport(handle, "_ZN2at7Context16setFlushDenormalEb", out var address)) return false;
        return Marshal.GetDelegateForFunctionPointer<FlushDenormalFunction>(address)(on ? (byte)1 : (byte)0) != 0;
    }
}
