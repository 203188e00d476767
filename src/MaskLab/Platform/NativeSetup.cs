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
}
