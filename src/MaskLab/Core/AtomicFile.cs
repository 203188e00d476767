using System.Text;

namespace MaskLab.Core;

/// <summary>
/// Writes a file so that readers see either the old file or the complete new one, never a half-written
/// one: an interrupted run must not leave a truncated submission that still looks valid.
/// </summary>
public static class AtomicFile
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
            using var writer = new StreamWriter(stream, Utf8NoBom, bufferSize: -1, leaveOpen: true);
            write(writer);
        });
    }

    /// <summary>As <see cref="WriteText"/>, for bytes (e.g. an ONNX model).</summary>
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
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(dir);
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
                write(stream);
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

    static void TryDelete(string file)
    {
        try { File.Delete(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
