namespace MaskLab.Data.Layout;

/// <summary>
/// Reads the image-folder layout users know from torchvision's ImageFolder: one subfolder per class, classes in
/// ordinal order of their names, images found at any depth below their class folder.
/// </summary>
/// <remarks>
/// No folder is entered through a symbolic link (a link such as <c>cat/up -&gt; ..</c> would loop, and would count the
/// photos it reaches again under another class): such links are listed in a warning. The walk stops with an error past
/// <see cref="MaxDepth"/> folders deep or <see cref="MaxEntries"/> entries, which no photo set comes near and a wrong
/// <c>--data</c> (a system folder) soon reaches.
/// </remarks>
internal static class ImageFolderLayout
{
    public static IReadOnlyList<string> Extensions { get; } = [".jpg", ".jpeg", ".png", ".bmp", ".webp"];

    /// <summary>Folders below a class folder the walk enters at most.</summary>
    public const int MaxDepth = 32;

    /// <summary>Files and folders the walk looks at at most.</summary>
    public const int MaxEntries = 2_000_000;

    const string Expected = "an image folder with one subfolder of images per class";

    /// <summary>
    /// Reads <paramref name="dir"/>. When the class folders are exactly "0".."17" the labels are the task classes
    /// (Label = the folder's number); otherwise the class names are the folder names. There is no person information,
    /// so each file is its own group and splits fall back to stratifying by class.
    /// </summary>
    public static LabeledSet Read(string dir) => Read(dir, MaxEntries);

    internal static LabeledSet Read(string dir, int maxEntries)
    {
        FolderListing.RequireFolder(dir, "image folder", Expected);
        var root = FolderListing.FullPath(dir);
        var walk = new Walk(root, maxEntries);
        var classDirs = walk.Folders(root);
        if (classDirs.Length < 2)
            throw new MaskLabInputException(
                $"{root} has {classDirs.Length} class {ReadProblems.Plural("folder", classDirs.Length)}; expected {Expected} and at least 2 classes{walk.LinksNote()}");

        var names = classDirs.Select(Path.GetFileName).ToArray()!;
        var isTask = IsTaskClassFolders(names!);
        var samples = new List<Sample>();
        var empty = new List<string>();
        for (var c = 0; c < classDirs.Length; c++)
        {
            var label = isTask ? int.Parse(names[c]!) : c;
            var before = samples.Count;
            foreach (var file in walk.ImagesBelow(classDirs[c], 0))
                samples.Add(new Sample(file, label, Group: file));
            if (samples.Count == before) empty.Add(names[c]!);
        }
        // An empty class would be a class the model is asked to learn without a single example.
        if (empty.Count > 0)
            throw new MaskLabInputException(
                $"{empty.Count} class {ReadProblems.Plural("folder", empty.Count)} under {root} {(empty.Count == 1 ? "holds" : "hold")} no images " +
                $"({string.Join("/", Extensions)}): {ReadProblems.Listing(empty)}{walk.LinksNote()}");

        IReadOnlyList<string> classNames = isTask ? TaskClasses.Names : names!;
        var warnings = walk.SkippedLinks.Count == 0 ? Array.Empty<string>()
            : [$"{walk.SkippedLinks.Count} folder {ReadProblems.Plural("link", walk.SkippedLinks.Count)} under {root} not followed " +
               $"(an image folder is read through real folders only): {ReadProblems.Listing(walk.SkippedLinks)}"];
        return new LabeledSet(samples, classNames, isTask, root) { Warnings = warnings };
    }

    /// <summary>The folder set "0".."17" and nothing else; "00" or a missing class is a generic set of names.</summary>
    public static bool IsTaskClassFolders(IReadOnlyCollection<string> names) =>
        names.Count == TaskClasses.Count &&
        names.ToHashSet(StringComparer.Ordinal).SetEquals(Enumerable.Range(0, TaskClasses.Count).Select(i => i.ToString()));

    /// <summary>One walk of the image folder: its entry count, and the folder links it did not follow.</summary>
    sealed class Walk(string root, int maxEntries)
    {
        int entries;

        public List<string> SkippedLinks { get; } = [];

        public string LinksNote() => SkippedLinks.Count == 0 ? ""
            : $" ({SkippedLinks.Count} folder {ReadProblems.Plural("link", SkippedLinks.Count)} not followed: {ReadProblems.Listing(SkippedLinks)})";

        /// <summary>The visible subfolders of <paramref name="dir"/> that are real folders, in ordinal order; links are noted.</summary>
        public string[] Folders(string dir)
        {
            var kept = new List<string>();
            foreach (var info in List(dir))
            {
                if (info is not DirectoryInfo) continue;
                if (info.LinkTarget is not null) SkippedLinks.Add(Path.GetRelativePath(root, info.FullName));
                else kept.Add(info.FullName);
            }
            return [.. kept.Order(StringComparer.Ordinal)];
        }

        public IEnumerable<string> ImagesBelow(string dir, int depth)
        {
            if (depth > MaxDepth)
                throw new MaskLabInputException($"{root} is more than {MaxDepth} folders deep (at {dir}): is --data the photo folder?");
            var files = List(dir).Where(i => i is FileInfo && Extensions.Contains(i.Extension, StringComparer.OrdinalIgnoreCase))
                .Select(i => i.FullName).Order(StringComparer.Ordinal).ToArray();
            foreach (var file in files) yield return file;
            foreach (var sub in Folders(dir))
                foreach (var file in ImagesBelow(sub, depth + 1))
                    yield return file;
        }

        /// <summary>The visible entries of <paramref name="dir"/>, counted against the cap; a folder that cannot be read is named.</summary>
        List<FileSystemInfo> List(string dir)
        {
            var result = new List<FileSystemInfo>();
            try
            {
                foreach (var info in new DirectoryInfo(dir).EnumerateFileSystemInfos())
                {
                    if (++entries > maxEntries)
                        throw new MaskLabInputException($"{root} holds more than {maxEntries:N0} files and folders: is --data the photo folder?");
                    if (!FolderListing.IsHidden(info.Name)) result.Add(info);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new MaskLabInputException($"cannot read folder {dir}: {e.Message}");
            }
            return result;
        }
    }
}
