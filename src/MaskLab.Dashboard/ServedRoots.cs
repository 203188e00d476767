using System.Runtime.InteropServices;

namespace MaskLab.Dashboard;

/// <summary>
/// The only folders whose files the server hands out: the runs folder and the data folders. A request names a root
/// by key (<c>runs</c>, <c>data0</c>, <c>data1</c>, ...) and a path below it; the file is served only when its real
/// path (every symbolic link resolved) lies inside the root's real path. <c>..</c> segments, backslashes, NUL and
/// percent-encoded separators are refused before anything touches the disk.
/// </summary>
public sealed class ServedRoots
{
    readonly List<(string Key, string Real)> _roots = [];

    public ServedRoots(string runsRoot, IEnumerable<string> dataRoots)
    {
        Add("runs", runsRoot);
        int i = 0;
        foreach (var d in dataRoots) Add($"data{i++}", d);
    }

    void Add(string key, string dir)
    {
        var real = RealPath(dir) ?? Path.GetFullPath(dir);
        _roots.Add((key, real.TrimEnd('/')));
    }

    public IReadOnlyList<(string Key, string Real)> Roots => _roots;

    /// <summary>Image files the server shows; other files of a run are served only as the types listed in <see cref="ContentType"/>.</summary>
    static readonly Dictionary<string, string> Types = new(StringComparer.OrdinalIgnoreCase)
    {
        [".jpg"] = "image/jpeg", [".jpeg"] = "image/jpeg", [".png"] = "image/png", [".gif"] = "image/gif",
        [".bmp"] = "image/bmp", [".webp"] = "image/webp",
        [".csv"] = "text/plain; charset=utf-8", [".json"] = "text/plain; charset=utf-8", [".jsonl"] = "text/plain; charset=utf-8",
        [".yaml"] = "text/plain; charset=utf-8", [".md"] = "text/plain; charset=utf-8", [".txt"] = "text/plain; charset=utf-8",
        [".html"] = "text/html; charset=utf-8",
    };

    /// <summary>The content type a served file gets, or null for a kind the server does not hand out (checkpoints, say).</summary>
    public static string? ContentType(string path) => Types.GetValueOrDefault(Path.GetExtension(path));

    /// <summary>
    /// The real path of <paramref name="relative"/> under the root named <paramref name="key"/>, or null with the
    /// reason: unknown root, a refused segment, no such file, or a real path outside the root.
    /// </summary>
    /// <param name="rawRelative">The path as it arrived, still percent-encoded, for the encoded-separator check.</param>
    public string? Resolve(string key, string relative, string? rawRelative, out string reason)
    {
        reason = "";
        var root = _roots.FirstOrDefault(r => r.Key == key);
        if (root.Key is null) { reason = $"no served folder '{key}'"; return null; }
        if (rawRelative is not null && (rawRelative.Contains("%2f", StringComparison.OrdinalIgnoreCase)
                                        || rawRelative.Contains("%5c", StringComparison.OrdinalIgnoreCase)
                                        || rawRelative.Contains("%2e", StringComparison.OrdinalIgnoreCase)
                                        || rawRelative.Contains("%00", StringComparison.Ordinal)))
        { reason = "encoded separators, dots and NUL are refused"; return null; }
        if (relative.Length == 0 || relative.Contains('\\') || relative.Contains('\0') || relative.StartsWith('/'))
        { reason = "not a relative path"; return null; }
        var segments = relative.Split('/');
        if (segments.Any(s => s is "" or "." or ".."))
        { reason = "'..', '.' and empty segments are refused"; return null; }
        var joined = Path.Combine(root.Real, relative);
        if (!File.Exists(joined)) { reason = "no such file"; return null; }
        var real = RealPath(joined);
        if (real is null || !Inside(real, root.Real)) { reason = "outside the served folders"; return null; }
        // A FIFO would hold the request (and a worker) until something writes to it; a device never ends.
        if (MaskLab.Core.InputFile.FileType(real) is { } type && type != "regular file") { reason = $"a {type}, not a regular file"; return null; }
        return real;
    }

    /// <summary>The served address of an absolute path (a photo named in a run's files), or null when no root holds it.</summary>
    public string? UrlOf(string absolutePath)
    {
        var full = Path.GetFullPath(absolutePath);
        // The data roots first: a photo is named by its data set, not by a runs folder that happens to hold it.
        foreach (var (key, real) in _roots.OrderBy(r => r.Key == "runs" ? 1 : 0))
        {
            if (!Inside(full, real)) continue;
            var rel = Path.GetRelativePath(real, full);
            return $"/files/{key}/{string.Join('/', rel.Split('/').Select(Uri.EscapeDataString))}";
        }
        // The file may be reached through a link in its name: compare real paths too.
        if (RealPath(full) is { } r2 && r2 != full) return UrlOfReal(r2);
        return null;
    }

    string? UrlOfReal(string real)
    {
        foreach (var (key, root) in _roots.OrderBy(r => r.Key == "runs" ? 1 : 0))
            if (Inside(real, root))
                return $"/files/{key}/{string.Join('/', Path.GetRelativePath(root, real).Split('/').Select(Uri.EscapeDataString))}";
        return null;
    }

    static bool Inside(string path, string root) => path.StartsWith(root + "/", StringComparison.Ordinal);

    [DllImport("libc", EntryPoint = "realpath", SetLastError = true)]
    static extern IntPtr RealPathNative([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

    [DllImport("libc", EntryPoint = "free")]
    static extern void Free(IntPtr p);

    /// <summary>The path with every symbolic link, '.' and '..' resolved (libc's realpath), or null when it does not exist.</summary>
    public static string? RealPath(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return File.Exists(path) || Directory.Exists(path) ? Path.GetFullPath(path) : null;
        var p = RealPathNative(path, IntPtr.Zero);
        if (p == IntPtr.Zero) return null;
        try { return Marshal.PtrToStringUTF8(p); }
        finally { Free(p); }
    }
}
