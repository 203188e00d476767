using System.Globalization;

namespace MaskLab.Data.Layout;

/// <summary>One row of <c>train.csv</c>: a person and the folder of their photos under <c>images/</c>.</summary>
public sealed record TrainCsvRow(string Id, string Gender, string Race, int Age, string Folder);

/// <summary>
/// Reads (and, for a generated set, writes) the competition's layout as it is distributed: <c>train/{train.csv,images/&lt;id&gt;_&lt;gender&gt;_&lt;race&gt;_&lt;age&gt;/}</c>
/// and <c>eval/{info.csv,images/}</c>. Readers only list files; decoding happens later, in the loader.
/// </summary>
public static class CompetitionLayout
{
    /// <summary>Ages outside this range are typing mistakes, not people (the real data runs from 18 to 60).</summary>
    public const int MinAge = 1, MaxAge = 120;

    static readonly string[] PhotoExtensions = [".jpg", ".jpeg", ".png"];
    static readonly string[] PhotoStems = ["mask1", "mask2", "mask3", "mask4", "mask5", "incorrect_mask", "normal"];
    static readonly string[] TrainCsvColumns = ["id", "gender", "race", "age", "path"];

    const string TrainExpected = "a train folder with images/<id>_<gender>_<race>_<age>/ (and optionally train.csv)";
    const string EvalExpected = "an eval folder with info.csv (ImageID,ans) and images/";
    const string PhotoNames = "mask1..mask5, incorrect_mask or normal with .jpg/.jpeg/.png";

    /// <summary>
    /// Reads the labelled photos of <paramref name="trainDir"/>. The folder names are the truth; train.csv, when
    /// present, is only checked to list folders that exist. Every bad folder or photo name is collected and
    /// reported in one <see cref="MaskLabInputException"/>. Labels use the scoring age cuts (30 / 60); training
    /// relabels through <see cref="Sample.TrainingLabel"/>.
    /// </summary>
    public static LabeledSet ReadTrain(string trainDir)
    {
        FolderListing.RequireFolder(trainDir, "train folder", TrainExpected);
        var root = FolderListing.FullPath(trainDir);
        var imagesDir = Path.Combine(root, "images");
        if (!Directory.Exists(imagesDir))
            throw new MaskLabInputException($"{root} has no images/ folder; expected {TrainExpected}");

        var folders = FolderListing.Folders(imagesDir);
        if (folders.Length == 0)
            throw new MaskLabInputException($"{imagesDir} holds no person folders; expected <id>_<gender>_<race>_<age>/ folders of photos");

        var csvPath = Path.Combine(root, "train.csv");
        var warnings = File.Exists(csvPath) ? CheckTrainCsv(csvPath, imagesDir) : [];

        var problems = new ReadProblems(imagesDir);
        var samples = new List<Sample>();
        var incomplete = new List<string>();
        foreach (var folder in folders)
        {
            var name = Path.GetFileName(folder);
            if (!TryParsePersonFolder(name, out var person, out var why))
            {
                problems.AddFolder(name, why);
                continue;
            }
            ReadPhotos(folder, person, samples, problems, incomplete);
        }
        problems.ThrowIfAny();
        if (incomplete.Count > 0)
            warnings = [.. warnings, $"{incomplete.Count} person {ReadProblems.Plural("folder", incomplete.Count)} under {imagesDir} " +
                $"{(incomplete.Count == 1 ? "lacks" : "lack")} some of the seven photos ({PhotoNames}); trained on with the photos there: {ReadProblems.Listing(incomplete, 3)}"];
        return new LabeledSet(samples, TaskClasses.Names, IsTaskClasses: true, root) { Warnings = warnings };
    }

    static void ReadPhotos(string folder, Person person, List<Sample> samples, ReadProblems problems, List<string> incomplete)
    {
        var name = person.Folder;
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var files = FolderListing.Files(folder);
        foreach (var sub in FolderListing.Folders(folder))
            problems.AddFolder($"{name}/{Path.GetFileName(sub)}", "unexpected folder inside a person folder");
        foreach (var file in files)
        {
            var fileName = Path.GetFileName(file);
            var ext = Path.GetExtension(fileName);
            var stem = Path.GetFileNameWithoutExtension(fileName).ToLowerInvariant();
            var mask = TaskClasses.MaskFromPhotoName(stem);
            if (mask is null || !PhotoExtensions.Contains(ext, StringComparer.OrdinalIgnoreCase))
            {
                problems.AddFile($"{name}/{fileName}", $"unknown photo name; expected {PhotoNames}");
                continue;
            }
            if (seen.TryGetValue(stem, out var other))
            {
                problems.AddFile($"{name}/{fileName}", $"a second {stem} photo besides {other}");
                continue;
            }
            seen[stem] = fileName;
            var label = TaskClasses.Encode(mask.Value, person.Gender, AgeCuts.Scoring.Band(person.Age));
            samples.Add(new Sample(file, label, person.Id, person, mask.Value));
        }
        // A folder whose files are all misnamed is already reported file by file.
        if (files.Length == 0)
            problems.AddFolder(name, $"no photos; expected {PhotoNames}");
        else if (seen.Count > 0 && seen.Count < PhotoStems.Length)
            incomplete.Add($"{name} (no {string.Join(", ", PhotoStems.Where(s => !seen.ContainsKey(s)))})");
    }

    /// <summary>
    /// Parses <c>&lt;id&gt;_&lt;gender&gt;_&lt;race&gt;_&lt;age&gt;</c>. A race with underscores is kept whole, since the age
    /// is the last part and the id and gender the first two.
    /// </summary>
    public static bool TryParsePersonFolder(string name, out Person person, out string problem)
    {
        person = null!;
        var parts = name.Split('_');
        if (parts.Length < 4)
        {
            problem = parts.Length == 3 && !IsWholeNumber(parts[2])
                ? "no age; expected <id>_<gender>_<race>_<age>"
                : "expected <id>_<gender>_<race>_<age>";
            return false;
        }
        var id = parts[0];
        var genderText = parts[1];
        var race = string.Join('_', parts[2..^1]);
        var ageText = parts[^1];
        if (id.Length == 0) { problem = "empty id"; return false; }
        Gender gender;
        if (genderText.Equals("male", StringComparison.OrdinalIgnoreCase)) gender = Gender.Male;
        else if (genderText.Equals("female", StringComparison.OrdinalIgnoreCase)) gender = Gender.Female;
        else { problem = $"gender '{genderText}' is not male or female"; return false; }
        if (race.Length == 0) { problem = "empty race"; return false; }
        if (!int.TryParse(ageText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var age))
        {
            problem = ageText.Length == 0 ? "no age; expected <id>_<gender>_<race>_<age>" : $"age '{ageText}' is not a whole number";
            return false;
        }
        if (age < MinAge || age > MaxAge) { problem = $"age {age} is outside {MinAge}..{MaxAge}"; return false; }
        person = new Person(id, gender, race, age, name);
        problem = "";
        return true;
    }

    static bool IsWholeNumber(string s) => int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);

    /// <summary>
    /// Checks train.csv against the folders: a listed folder that is missing is an error; a row whose id, gender or age
    /// contradicts its folder's name, or repeats an id or a folder, is a warning (the folder names are the labels).
    /// Returns at most one warning line, with the count and the first examples.
    /// </summary>
    static IReadOnlyList<string> CheckTrainCsv(string csvPath, string imagesDir)
    {
        var table = CsvTable.Read(csvPath, TrainCsvColumns);
        var missing = new List<string>();
        var contradictions = new List<string>();
        var idLine = new Dictionary<string, long>(StringComparer.Ordinal);
        var folderLine = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var row in table.Rows)
        {
            // The real file names the folder alone; tolerate "images/<folder>" and a trailing slash from hand edits.
            var folder = Path.GetFileName(row.Values[4].Replace('\\', '/').TrimEnd('/'));
            if (folder.Length == 0)
                throw new MaskLabInputException($"{csvPath} line {row.Line}: empty path");
            if (!Directory.Exists(Path.Combine(imagesDir, folder))) missing.Add(folder);
            var problem = Contradiction(row, folder, idLine, folderLine);
            if (problem is not null) contradictions.Add($"line {row.Line}: {problem}");
        }
        if (missing.Count > 0)
            throw new MaskLabInputException(
                $"{csvPath} lists {missing.Count} {ReadProblems.Plural("folder", missing.Count)} missing from {imagesDir}: {ReadProblems.Listing(missing)}");
        if (contradictions.Count == 0) return [];
        return [$"{csvPath} disagrees with the folder names in {contradictions.Count} {ReadProblems.Plural("row", contradictions.Count)} " +
                $"(the folder names are the labels used): {string.Join("; ", contradictions.Take(3))}{(contradictions.Count > 3 ? $"; and {contradictions.Count - 3} more" : "")}"];
    }

    /// <summary>What is wrong with one train.csv row next to its folder name, or null.</summary>
    static string? Contradiction(CsvTableRow row, string folder, Dictionary<string, long> idLine, Dictionary<string, long> folderLine)
    {
        var (id, gender, age) = (row.Values[0], row.Values[1], row.Values[3]);
        if (!folderLine.TryAdd(folder, row.Line)) return $"folder {folder} repeats line {folderLine[folder]}";
        if (id.Length > 0 && !idLine.TryAdd(id, row.Line)) return $"id {id} repeats line {idLine[id]}";
        if (gender.Length > 0 && !gender.Equals("male", StringComparison.OrdinalIgnoreCase) && !gender.Equals("female", StringComparison.OrdinalIgnoreCase))
            return $"gender '{gender}' is not male or female";
        if (age.Length > 0 && !IsWholeNumber(age)) return $"age '{age}' is not a whole number";
        if (!TryParsePersonFolder(folder, out var person, out _)) return null; // the folder itself is reported as bad
        if (id.Length > 0 && id != person.Id) return $"id {id}, folder {folder}";
        if (gender.Length > 0 && !gender.Equals(person.Gender.ToString(), StringComparison.OrdinalIgnoreCase)) return $"gender {gender}, folder {folder}";
        if (age.Length > 0 && int.Parse(age, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) != person.Age) return $"age {age}, folder {folder}";
        return null;
    }

    /// <summary>
    /// Reads <c>info.csv</c> and resolves each ImageID under <c>images/</c>. The order is the file's, which is the order
    /// a submission must keep. Only ImageID is required: the given file's ans column is a placeholder.
    /// </summary>
    public static IReadOnlyList<EvalImage> ReadEval(string evalDir)
    {
        FolderListing.RequireFolder(evalDir, "eval folder", EvalExpected);
        var root = FolderListing.FullPath(evalDir);
        var csvPath = Path.Combine(root, "info.csv");
        if (!File.Exists(csvPath))
            throw new MaskLabInputException($"{root} has no info.csv; expected {EvalExpected}");
        var imagesDir = Path.Combine(root, "images");
        if (!Directory.Exists(imagesDir))
            throw new MaskLabInputException($"{root} has no images/ folder; expected {EvalExpected}");

        var table = CsvTable.Read(csvPath, "ImageID");
        if (table.Rows.Count == 0)
            throw new MaskLabInputException($"{csvPath} lists no images");
        var images = new List<EvalImage>(table.Rows.Count);
        var lineOf = new Dictionary<string, long>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var row in table.Rows)
        {
            var id = row.Values[0];
            CheckImageId(csvPath, row.Line, id);
            if (!lineOf.TryAdd(id, row.Line))
                throw new MaskLabInputException($"{csvPath} line {row.Line}: ImageID {id} repeats line {lineOf[id]}");
            var path = Path.Combine(imagesDir, id);
            if (!File.Exists(path)) missing.Add(id);
            images.Add(new EvalImage(id, path));
        }
        if (missing.Count > 0)
            throw new MaskLabInputException(
                $"{missing.Count} {ReadProblems.Plural("image", missing.Count)} listed in {csvPath} {(missing.Count == 1 ? "is" : "are")} missing from {imagesDir}: {ReadProblems.Listing(missing)}");
        return images;
    }

    /// <summary>Writes <c>train.csv</c> (<c>id,gender,race,age,path</c>) atomically.</summary>
    public static void WriteTrainCsv(string path, IEnumerable<TrainCsvRow> rows) =>
        CsvText.WriteFile(path, TrainCsvColumns,
            rows.Select(r => new[] { r.Id, r.Gender, r.Race, r.Age.ToString(CultureInfo.InvariantCulture), r.Folder }));

    /// <summary>Writes <c>info.csv</c> atomically: the eval images in order, each with the placeholder answer 0.</summary>
    public static void WriteEvalInfo(string path, IEnumerable<string> imageIds) =>
        CsvText.WriteFile(path, [Submission.IdColumn, Submission.AnswerColumn], imageIds.Select(id => new[] { id, "0" }));

    static void CheckImageId(string csvPath, long line, string id)
    {
        if (id.Length == 0)
            throw new MaskLabInputException($"{csvPath} line {line}: empty ImageID");
        // An id is a file name inside images/; anything with a folder part would read outside it.
        if (id != Path.GetFileName(id) || id.Contains('\\') || id is "." or "..")
            throw new MaskLabInputException($"{csvPath} line {line}: ImageID '{id}' is not a plain file name");
    }
}
