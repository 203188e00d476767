using System.Globalization;

namespace MaskLab.Platform;

/// <summary>
/// The process's peak resident memory (VmHWM in /proc/self/status). It covers libtorch's native allocations,
/// which the .NET GC does not see, so it is the figure that decides whether a model fits a machine.
/// </summary>
public static class PeakMemory
{
    /// <summary>
    /// Starts a new peak for the next run in this process (a sweep trains many): collects unreachable tensors,
    /// returns freed heap memory to the system, and resets VmHWM to the current resident size (Linux's
    /// /proc/self/clear_refs "5"). The peak then still includes what the process holds between runs (the decoded
    /// image caches). Returns false where the reset is not available.
    /// </summary>
    public static bool Reset(string clearRefsFile = "/proc/self/clear_refs")
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        NativeSetup.ReleaseFreeMemory();
        try
        {
            File.WriteAllText(clearRefsFile, "5");
            return true;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return false;
    }

    /// <summary>Peak resident memory in MiB, or null where /proc is not available.</summary>
    public static double? Megabytes(string statusFile = "/proc/self/status")
    {
        try
        {
            foreach (var line in File.ReadLines(statusFile))
            {
                if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
                var parts = line["VmHWM:".Length..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 1 && long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var kb))
                    return kb / 1024.0;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }
}
