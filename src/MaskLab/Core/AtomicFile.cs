using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace MaskLab.Core;

/// <summary>
/// Writes a file so that readers see either the old file or the complete new one, never a half-written
/// one: an interrupted run must not leave a truncated submission that still looks valid.
/// </summary>
internal static class AtomicFile
{
    static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// Writes UTF-8 (no byte order mark) to a temporary file in the destination folder, then renames it over
    /// <paramref name="path"/>; creates the folder if needed. Failures to write throw
    /// <see cref="MaskLabInputException"/> naming the path.
    /// </summary>
    public static void WriteText(string path, Action<TextWriter> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, Utf8NoBom, bufferSize: 1 << 16, leaveOpen: true);
            write(writer);
        });
    }

    /// <summary>
    /// As <see cref="WriteText"/>, for bytes (a checkpoint, an ONNX model): written to a temporary file in the
    /// destination folder (a seekable stream, so a header can be filled in last), then renamed over
    /// <paramref name="path"/>. A failure to write (a full disk, a read-only folder) throws
    /// <see cref="MaskLabInputException"/> naming the path, and no temporary file is left.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string full;
        try { full = Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new MaskLabInputException($"cannot write '{path}': {e.Message}");
        }
        if (Directory.Exists(full)) throw new MaskLabInputException($"cannot write '{path}': it is a folder");
        var dir = Path.GetDirectoryName(full)!;
        // Same folder, so the rename stays on one file system and is atomic.
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}{TempSuffix}");
        try
        {
            Directory.CreateDirectory(dir);
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 1 << 16))
            {
                write(stream);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(tmp);
            throw new MaskLabInputException($"cannot write '{path}': {e.Message}");
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    const string TempSuffix = ".tmp";

    /// <summary>
    /// Deletes the temporary files that writers killed mid-write left in <paramref name="dir"/> (not below it): those
    /// of processes no longer running on this machine. Called by whoever holds the folder's lock.
    /// </summary>
    /// <returns>How many were deleted.</returns>
    public static int RemoveStale(string dir)
    {
        if (!Directory.Exists(dir)) return 0;
        int removed = 0;
        foreach (var file in Directory.EnumerateFiles(dir, "*" + TempSuffix))
        {
            // .<name>.<pid>.<guid>.tmp
            var parts = Path.GetFileName(file).Split('.');
            if (parts.Length < 5 || parts[0].Length != 0
                || !int.TryParse(parts[^3], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                || parts[^2].Length != 32 || IsRunning(pid))
                continue;
            if (TryDelete(file)) removed++;
        }
        return removed;
    }

    static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException) { return false; }
    }

    static bool TryDelete(string file)
    {
        try { File.Delete(file); return true; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }
}
