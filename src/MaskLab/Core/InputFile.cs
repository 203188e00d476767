using System.Text;

namespace MaskLab.Core;

/// <summary>
/// The files a user hands MaskLab (configs, sweep files, CSVs, photos, weights) are opened only when they are regular
/// files of a bounded size: a FIFO would block the reader forever, and a device such as /dev/zero never ends.
/// </summary>
public static class InputFile
{
    /// <summary>Config and sweep files: far above any real one (a few KB).</summary>
    public const long MaxConfigBytes = 1L << 20;

    /// <summary>CSV tables (train.csv, info.csv, submissions, probabilities, box files): far above the task's (a few MB).</summary>
    public const long MaxCsvBytes = 256L << 20;

    /// <summary>One photo: far above any real photo; the pixel limit is the decoder's.</summary>
    public const long MaxPhotoBytes = 256L << 20;

    /// <summary>
    /// Why <paramref name="path"/> cannot be read as an input of at most <paramref name="maxBytes"/>: missing, a folder,
    /// not a regular file (a FIFO, device or socket) or too large; null when it can.
    /// </summary>
    public static string? Problem(string path, long maxBytes)
    {
        if (Directory.Exists(path)) return "is a folder, not a file";
        if (!File.Exists(path)) return "does not exist";
        if (FileType(path) is { } type && type != "regular file")
            return $"is a {type}, not a regular file";
        long length;
        try { length = new FileInfo(path).Length; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return $"cannot be read: {e.Message}"; }
        if (length > maxBytes) return $"is larger ({length:N0} bytes) than the {Size(maxBytes)} such a file may hold";
        return null;
    }

    /// <summary>Throws the one-line error for <see cref="Problem"/>: "<paramref name="what"/> 'path' is ...".</summary>
    public static void Require(string path, string what, long maxBytes)
    {
        if (Problem(path, maxBytes) is { } problem) throw new MaskLabInputException($"{what} '{path}' {problem}");
    }

    /// <summary>The text of an input file checked by <see cref="Require"/>; a read error names the file.</summary>
    public static string ReadAllText(string path, string what, long maxBytes)
    {
        Require(path, what, maxBytes);
        try { return File.ReadAllText(path, Encoding.UTF8); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MaskLabInputException($"cannot read {what} '{path}': {e.Message}");
        }
    }

    /// <summary>
    /// What stat(2) says <paramref name="path"/> is, after links: "regular file", "FIFO", "character device", "block
    /// device", "socket" or "folder"; null where it cannot be told (not Linux, or stat failed).
    /// </summary>
    public static string? FileType(string path) => OperatingSystem.IsLinux() ? LinuxFileType(path) : null;

    static unsafe string? LinuxFileType(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        Tmds.Linux.stat st;
        int result;
        fixed (byte* p = bytes) result = Tmds.Linux.LibC.stat(p, &st);
        if (result != 0) return null;
        var mode = st.st_mode;
        if (Tmds.Linux.LibC.S_ISREG(mode)) return "regular file";
        if (Tmds.Linux.LibC.S_ISDIR(mode)) return "folder";
        if (Tmds.Linux.LibC.S_ISFIFO(mode)) return "FIFO";
        if (Tmds.Linux.LibC.S_ISCHR(mode)) return "character device";
        if (Tmds.Linux.LibC.S_ISBLK(mode)) return "block device";
        if (Tmds.Linux.LibC.S_ISSOCK(mode)) return "socket";
        return "special file";
    }

    static string Size(long bytes) => bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):0.#} GiB"
        : bytes >= 1L << 20 ? $"{bytes / (double)(1L << 20):0.#} MiB"
        : bytes >= 1L << 10 ? $"{bytes / (double)(1L << 10):0.#} KiB"
        : $"{bytes} bytes";
}
