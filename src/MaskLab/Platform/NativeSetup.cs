using System.Runtime.InteropServices;

namespace MaskLab.Platform;

/// <summary>Process-wide native set-up, done once before the first tensor.</summary>
public static class NativeSetup
{
    const int M_TRIM_THRESHOLD = -1;
    const int M_MMAP_THRESHOLD = -3;

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int Mallopt(int param, int value);

    static int _done;

    /// <summary>
    /// With glibc's defaults each training step unmaps and remaps the large activation buffers, which made
    /// resnet18 training almost 3x slower here. Raising the mmap and trim thresholds keeps freed buffers in
    /// the heap for reuse. Must run before libtorch allocates.
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
        if (threads is > 0) TorchSharp.torch.set_num_threads(threads.Value);
    }
}
