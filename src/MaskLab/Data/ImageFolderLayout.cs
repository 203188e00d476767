namespace MaskLab.Data;

/// <summary>
/// Reads the image-folder layout users know from torchvision's ImageFolder: one subfolder per class, classes in
/// ordinal order of their names, images found at any depth below their class folder.
/// </summary>
public static class ImageFolderLayout
{
    public static IReadOnlyList<string> Extensions { get; } = [".jpg", ".jpeg", ".png", ".bmp", ".webp"];

    const string Expected = "an image folder with one subfolder of images per class";

    /// <summary>
    /// Reads <paramref name="dir"/>. When the class folders are exactly "0".."17" the labels are the task classes
    /// (Label = the folder's number); otherwise the class names are the folder names. There is no person information,
    /// so each file is its own group and splits fall back to stratifying by class.
    /// </summary>
    public static LabeledSet Read(string dir)
    {
        FolderListing.RequireFolder(dir, "image folder", Expected);
        var root = FolderListing.FullPath(dir);
        var classDirs = FolderListing.Folders(root);
        if (classDirs.Length < 2)
            throw new MaskLabInputException(
                $"{root} has {classDirs.Length} class {ReadProblems.Plural("folder", classDirs.Length)}; expected {Expected} and at least 2 classes");

        var names = classDirs.Select(Path.GetFileName).ToArray()!;
        var isTask = IsTaskClassFolders(names!);
        var samples = new List<Sample>();
        var empty = new List<string>();
        for (var c = 0; c < classDirs.Length; c++)
        {
            var label = isTask ? int.Parse(names[c]!) : c;
            var before = samples.Count;
            foreach (var file in ImagesBelow(classDirs[c]))
                samples.Add(new Sample(file, label, Group: file));
            if (samples.Count == before) empty.Add(names[c]!);
        }
        // An empty class would be a class the model is asked to learn without a single example.
        if (empty.Count > 0)
            throw new MaskLabInputException(
                $"{empty.Count} class {ReadProblems.Plural("folder", empty.Count)} under {root} {(empty.Count == 1 ? "holds" : "hold")} no images " +
                $"({string.Join("/", Extensions)}): {ReadProblems.Listing(empty)}");

        IReadOnlyList<string> classNames = isTask ? TaskClasses.Names : names!;
        return new LabeledSet(samples, classNames, isTask, root);
    }

    /// <summary>The folder set "0".."17" and nothing else; "00" or a missing class is a generic set of names.</summary>
    public static bool IsTaskClassFolders(IReadOnlyCollection<string> names) =>
        names.Count == TaskClasses.Count &&
        names.ToHashSet(StringComparer.Ordinal).SetEquals(Enumerable.Range(0, TaskClasses.Count).Select(i => i.ToString()));

    static IEnumerable<string> ImagesBelow(string dir)
    {
        foreach (var file in FolderListing.Files(dir))
            if (Extensions.Contains(Path.GetExtension(file), StringComparer.OrdinalIgnoreCase))
                yield return file;
        foreach (var sub in FolderListing.Folders(dir))
            foreach (var file in ImagesBelow(sub))
                yield return file;
    }
}
