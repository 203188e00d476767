namespace MaskLab.Core;

/// <summary>
/// A path with every symbolic link in it resolved (realpath(3)), worked out in managed code: the part that exists is
/// followed link by link, the rest (not created yet) is appended as written.
/// </summary>
public static class RealPath
{
    /// <summary>The kernel's own limit on links followed while resolving one path (Linux's MAXSYMLINKS).</summary>
    const int MaxLinks = 40;

    /// <summary>The absolute path <paramref name="path"/> names once its links are followed.</summary>
    /// <exception cref="MaskLabInputException">The path is malformed or its links go round in a loop.</exception>
    public static string Of(string path)
    {
        string full;
        try { full = Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new MaskLabInputException($"'{Echo.Of(path)}' is not a valid path: {e.Message}");
        }
        var root = Path.GetPathRoot(full)!;
        var pending = new LinkedList<string>(Parts(full[root.Length..]));
        var current = root;
        int links = 0;
        while (pending.First is { } node)
        {
            pending.RemoveFirst();
            var part = node.Value;
            if (part is "" or ".") continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }
            var next = Path.Combine(current, part);
            string? target;
            try { target = new FileInfo(next).LinkTarget; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { target = null; }
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++links > MaxLinks) throw new MaskLabInputException($"'{path}' cannot be resolved: its symbolic links go round in a loop");
            if (Path.IsPathRooted(target)) current = Path.GetPathRoot(target)!;
            var targetParts = Parts(Path.IsPathRooted(target) ? target[Path.GetPathRoot(target)!.Length..] : target);
            for (int i = targetParts.Length - 1; i >= 0; i--) pending.AddFirst(targetParts[i]);
        }
        return Path.TrimEndingDirectorySeparator(current) is { Length: > 0 } trimmed ? trimmed : root;
    }

    static string[] Parts(string relative) => relative.Split(['/', Path.DirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
}
