namespace MaskLab.Data.Layout;

/// <summary>Directory listings as the readers see them: hidden entries dropped, ordinal order for reproducibility.</summary>
internal static class FolderListing
{
    /// <summary>Dot-names are hidden: macOS archives carry <c>._mask1.jpg</c> AppleDouble files and <c>.DS_Store</c>.</summary>
    public static bool IsHidden(string name) => name.StartsWith('.');

    public static string[] Folders(string dir) => Visible(Directory.EnumerateDirectories(dir));

    public static string[] Files(string dir) => Visible(Directory.EnumerateFiles(dir));

    static string[] Visible(IEnumerable<string> paths)
    {
        var kept = paths.Where(p => !IsHidden(Path.GetFileName(p))).ToArray();
        Array.Sort(kept, StringComparer.Ordinal);
        return kept;
    }

    /// <summary>True for a folder without a single visible file or folder.</summary>
    public static bool IsEmpty(string dir) =>
        !Directory.EnumerateFileSystemEntries(dir).Any(p => !IsHidden(Path.GetFileName(p)));

    /// <summary>Absolute and without a trailing separator, so "train/" and "train" name the same root.</summary>
    public static string FullPath(string dir) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir));

    /// <summary>Throws the user-facing error for a path that should be a folder but is missing or a file.</summary>
    public static void RequireFolder(string dir, string what, string expected)
    {
        if (Directory.Exists(dir)) return;
        if (File.Exists(dir)) throw new MaskLabInputException($"{what} {dir} is a file; expected {expected}");
        throw new MaskLabInputException($"{what} {dir} does not exist; expected {expected}");
    }
}
