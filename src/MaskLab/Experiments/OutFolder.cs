using MaskLab.Runs;

namespace MaskLab.Experiments;

/// <summary>What a folder holds, as a writer of runs sees it.</summary>
public enum FolderKind
{
    /// <summary>Does not exist yet.</summary>
    New,
    /// <summary>Exists and holds nothing but what a MaskLab writer leaves before its first file (its lock, temporary files, an empty checkpoints/).</summary>
    Empty,
    /// <summary>A run directory (config.yaml of one run).</summary>
    Run,
    /// <summary>A k-fold root (config.yaml with folds of 2 or more and fold -1, fold-&lt;k&gt;/ inside).</summary>
    KFoldRoot,
    /// <summary>A sweep folder (sweep.yaml, one run directory per run).</summary>
    Sweep,
    /// <summary>Anything else: files that are not MaskLab's.</summary>
    Other,
}

/// <summary>
/// The check every writer of a run, k-fold root or sweep folder makes before it writes anything: the folder is created
/// new, is empty, or is one of the same kind (to resume it). A folder that holds anything else is refused, so that a
/// user's files are never overwritten and a run never lands inside a sweep (or a sweep inside a run), and a path that
/// resolves (through symbolic links) to a system folder is refused whatever it holds.
/// </summary>
public static class OutFolder
{
    /// <summary>
    /// Refuses <paramref name="path"/> unless it is new, empty or a folder of <paramref name="want"/>'s kind
    /// (<see cref="FolderKind.Run"/>, <see cref="FolderKind.KFoldRoot"/> or <see cref="FolderKind.Sweep"/>).
    /// Returns what it holds now.
    /// </summary>
    /// <exception cref="MaskLabInputException">One line naming the folder and what it holds.</exception>
    public static FolderKind Check(string path, FolderKind want)
    {
        var full = Path.GetFullPath(path);
        var real = RealPath.Of(full);
        var shown = real == Path.TrimEndingDirectorySeparator(full) ? $"'{full}'" : $"'{full}' (a link to '{real}')";
        if (IsSystemFolder(real))
            throw new MaskLabInputException($"{shown} is a system folder: write the {Noun(want)} into a folder of its own");
        if (File.Exists(real)) throw new MaskLabInputException($"{shown} is a file: the {Noun(want)} needs a folder");
        var kind = KindOf(real);
        if (kind is FolderKind.New or FolderKind.Empty || kind == want) return kind;
        var holds = kind switch
        {
            FolderKind.Run => "holds a run (config.yaml, checkpoints/)",
            FolderKind.KFoldRoot => "holds a k-fold run (config.yaml, fold-<k>/)",
            FolderKind.Sweep => "holds a sweep (sweep.yaml, one run folder per run)",
            _ => $"is not empty and is not a MaskLab {Noun(want)} (it holds {Listing(real)})",
        };
        throw new MaskLabInputException($"{shown} {holds}: write the {Noun(want)} into a new or empty folder");
    }

    static string Noun(FolderKind kind) => kind switch
    {
        FolderKind.KFoldRoot => "k-fold run",
        FolderKind.Sweep => "sweep",
        _ => "run",
    };

    /// <summary>What <paramref name="dir"/> holds, told by the names MaskLab writes (and, for a k-fold root, its config).</summary>
    public static FolderKind KindOf(string dir)
    {
        if (!Directory.Exists(dir)) return FolderKind.New;
        string[] names;
        try { names = Directory.EnumerateFileSystemEntries(dir).Select(e => Path.GetFileName(e)!).ToArray(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MaskLabInputException($"cannot read '{dir}': {e.Message}");
        }
        var set = names.ToHashSet(StringComparer.Ordinal);
        if (names.All(n => IsLeftover(dir, n))) return FolderKind.Empty;
        bool locked = set.Contains(RunDirectory.LockFileName);
        // A sweep submitted to Slurm holds its slurm/ folder (scripts, logs, submissions) before any run has finished.
        if (set.Contains("sweep.yaml") && (locked || set.Contains("results.csv") || set.Contains("summary.md") || Directory.Exists(Path.Combine(dir, "slurm"))))
            return FolderKind.Sweep;
        var run = new RunDirectory(dir);
        bool folds = names.Any(n => n.StartsWith("fold-", StringComparison.Ordinal) && int.TryParse(n[5..], out _) && Directory.Exists(Path.Combine(dir, n)));
        if (set.Contains("config.yaml") && (locked || folds || Directory.Exists(run.CheckpointsDir) || set.Contains("metadata.json")))
        {
            if (folds || set.Contains("oof.csv")) return FolderKind.KFoldRoot;
            if (!File.Exists(run.LastCheckpoint) && IsKFoldConfig(run)) return FolderKind.KFoldRoot;
            return FolderKind.Run;
        }
        return FolderKind.Other;
    }

    /// <summary>What a writer leaves before its first file: the lock and its record, temporary files, an empty checkpoints/.</summary>
    static bool IsLeftover(string dir, string name)
    {
        if (name is RunDirectory.LockFileName or RunDirectory.LockHolderFileName) return true;
        if (name.StartsWith('.') && name.EndsWith(".tmp", StringComparison.Ordinal) && File.Exists(Path.Combine(dir, name))) return true;
        var sub = Path.Combine(dir, name);
        return name == "checkpoints" && Directory.Exists(sub) && !Directory.EnumerateFileSystemEntries(sub).Any();
    }

    /// <summary>A k-fold root's config: folds of 2 or more, fold -1 (a fold's own config names its fold).</summary>
    static bool IsKFoldConfig(RunDirectory run)
    {
        try
        {
            var config = run.ReadConfig();
            return config.Folds > 1 && config.Fold < 0;
        }
        catch (MaskLabInputException) { return false; }
    }

    static string Listing(string dir)
    {
        var names = Directory.EnumerateFileSystemEntries(dir).Select(e => Path.GetFileName(e)!).Order(StringComparer.Ordinal).ToList();
        var head = string.Join(", ", names.Take(4).Select(n => Echo.Of(n, 60)));
        return names.Count > 4 ? $"{head} and {names.Count - 4} more" : head;
    }

    /// <summary>Folders a run must never be written into: the root, the top-level folders, the system's own trees, the home folder itself.</summary>
    public static bool IsSystemFolder(string real)
    {
        var path = Path.TrimEndingDirectorySeparator(real);
        var root = Path.GetPathRoot(path);
        if (string.IsNullOrEmpty(path) || path == Path.TrimEndingDirectorySeparator(root ?? "")) return true;
        if (OperatingSystem.IsWindows()) return false;
        if (Path.GetDirectoryName(path) == "/") return true;
        foreach (var system in SystemTrees)
            if (path.StartsWith(system + "/", StringComparison.Ordinal)) return true;
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return home.Length > 0 && path == Path.TrimEndingDirectorySeparator(home);
    }

    static readonly string[] SystemTrees = ["/proc", "/sys", "/dev", "/etc", "/boot", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
}
