namespace MaskLab.Data.Layout;

public enum DataKind { Competition, ImageFolder }

/// <summary>
/// Where the data of a <c>--data</c> folder lies. For the competition layout one or both of
/// <see cref="TrainDir"/> and <see cref="EvalDir"/> are set; for an image folder only <see cref="ImageFolderDir"/>.
/// Paths are absolute.
/// </summary>
public sealed record DataLocation(string? TrainDir, string? EvalDir, string? ImageFolderDir)
{
    public DataKind Kind => ImageFolderDir is null ? DataKind.Competition : DataKind.ImageFolder;
    public bool HasTrain => TrainDir is not null;
    public bool HasEval => EvalDir is not null;

    /// <summary>The folder that holds labelled photos: the train folder or the image folder; null for eval only.</summary>
    public string? LabeledDir => TrainDir ?? ImageFolderDir;
}

/// <summary>
/// Recognises the layouts <c>--data</c> accepts: the competition layout (a folder holding train/ and/or eval/, or
/// train/ or eval/ itself) and the image-folder layout (one subfolder per class). Recognition looks at names only;
/// the readers check contents and report every bad entry.
/// </summary>
public static class DataLocator
{
    public const string Expected =
        "the competition layout (a folder holding train/ and/or eval/, train/ with images/<id>_<gender>_<race>_<age>/, " +
        "or eval/ with info.csv and images/) or an image folder (one subfolder per class)";

    public static DataLocation Locate(string dir)
    {
        if (string.IsNullOrWhiteSpace(dir))
            throw new MaskLabInputException($"no data folder given; expected {Expected}");
        FolderListing.RequireFolder(dir, "data folder", Expected);
        var root = FolderListing.FullPath(dir);
        if (FolderListing.IsEmpty(root))
            throw new MaskLabInputException($"data folder {root} is empty; expected {Expected}");

        var trainChild = Path.Combine(root, "train");
        var evalChild = Path.Combine(root, "eval");
        // A table that is a folder would make its folder read as no train (or eval) data at all, and the error name the other.
        foreach (var table in new[] { Path.Combine(trainChild, "train.csv"), Path.Combine(evalChild, "info.csv"), Path.Combine(root, "train.csv"), Path.Combine(root, "info.csv") })
            if (Directory.Exists(table))
                throw new MaskLabInputException($"{table} is a folder, not the CSV file {Path.GetFileName(table)}; expected {Expected}");
        var hasTrainChild = Directory.Exists(trainChild);
        var hasEvalChild = Directory.Exists(evalChild);
        if (hasTrainChild || hasEvalChild)
        {
            var train = hasTrainChild && IsTrainDir(trainChild) ? trainChild : null;
            var eval = hasEvalChild && IsEvalDir(evalChild) ? evalChild : null;
            if (train is not null || eval is not null) return new DataLocation(train, eval, null);
            // A folder named train/ or eval/ that is neither is a broken copy, not an image-folder class.
            var broken = hasTrainChild ? trainChild : evalChild;
            var want = hasTrainChild
                ? "images/<id>_<gender>_<race>_<age>/ (and optionally train.csv)"
                : "info.csv and images/";
            throw new MaskLabInputException($"{broken} does not hold {want}; expected {Expected}");
        }
        if (IsTrainDir(root)) return new DataLocation(root, null, null);
        if (IsEvalDir(root)) return new DataLocation(null, root, null);

        var folders = FolderListing.Folders(root);
        if (folders.Length == 0)
            throw new MaskLabInputException($"data folder {root} holds no folders; expected {Expected}");
        // Pointing at train/images/ by mistake would otherwise read as an image folder with one class per person.
        var personLike = folders.Count(f => CompetitionLayout.TryParsePersonFolder(Path.GetFileName(f), out _, out _));
        if (personLike * 2 > folders.Length)
            throw new MaskLabInputException(
                $"{root} holds person folders (<id>_<gender>_<race>_<age>): pass the train folder above it, {Path.GetDirectoryName(root)}");
        return new DataLocation(null, null, root);
    }

    /// <summary>
    /// Reads the labelled photos of <paramref name="dir"/> for scoring a run: the competition train data or an image
    /// folder. A folder with only eval data has no labels to score against.
    /// </summary>
    public static LabeledSet ReadLabeled(string dir)
    {
        var where = Locate(dir);
        if (where.TrainDir is { } train) return CompetitionLayout.ReadTrain(train);
        if (where.ImageFolderDir is { } folder) return ImageFolderLayout.Read(folder);
        throw new MaskLabInputException(
            $"{where.EvalDir} holds eval data without labels; expected labelled data: a train folder with images/<id>_<gender>_<race>_<age>/ or an image folder");
    }

    /// <summary>
    /// A train folder has images/ and either train.csv or no other folders: the second condition keeps an image folder
    /// that happens to have a class named "images" from being taken for one.
    /// </summary>
    static bool IsTrainDir(string dir) =>
        Directory.Exists(Path.Combine(dir, "images")) &&
        (File.Exists(Path.Combine(dir, "train.csv")) ||
         (!File.Exists(Path.Combine(dir, "info.csv")) && FolderListing.Folders(dir).Length == 1));

    static bool IsEvalDir(string dir) => File.Exists(Path.Combine(dir, "info.csv"));

    /// <summary>
    /// Whether <paramref name="dir"/> is part of a competition-layout data set: a train folder (images/ and train.csv),
    /// an eval folder (info.csv and images/), or the folder holding either. Files there are data, never outputs.
    /// </summary>
    public static bool IsDataSetFolder(string dir)
    {
        static bool Train(string d) => Directory.Exists(Path.Combine(d, "images")) && File.Exists(Path.Combine(d, "train.csv"));
        static bool Eval(string d) => Directory.Exists(Path.Combine(d, "images")) && File.Exists(Path.Combine(d, "info.csv"));
        return Train(dir) || Eval(dir) || Train(Path.Combine(dir, "train")) || Eval(Path.Combine(dir, "eval"));
    }
}
