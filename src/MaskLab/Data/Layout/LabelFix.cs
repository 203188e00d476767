using System.Globalization;

namespace MaskLab.Data.Layout;

/// <summary>
/// One correction of the labels the competition layout gives, read from a <c>person,field,value</c> row:
/// <list type="bullet">
/// <item><c>gender</c>: <c>male</c>, <c>female</c>, or <c>flip</c> (the other one than the folder name says);</item>
/// <item><c>age</c>: the right age, a whole number;</item>
/// <item><c>drop</c>: leave the person out (value empty);</item>
/// <item>a photo name (<c>mask1</c>..<c>mask5</c>, <c>incorrect_mask</c>, <c>normal</c>): what the photo really shows,
/// <c>wear</c>, <c>incorrect</c> or <c>not_wear</c>, or <c>drop</c> to leave that photo out.</item>
/// </list>
/// </summary>
/// <param name="Source">The file and line it came from, for messages and the run's record.</param>
public sealed record LabelFix(string Person, string Field, string Value, string Source)
{
    public const string GenderField = "gender", AgeField = "age", DropField = "drop";

    public bool IsPhotoFix => TaskClasses.MaskFromPhotoName(Field) is not null;
}

/// <summary>A fix as it changed the data: the old and new value, and how many photos it touched.</summary>
public sealed record AppliedLabelFix(LabelFix Fix, string Old, string New, int Photos);

/// <summary>What applying fixes did: the corrected set, every fix applied, and every fix left out with the reason.</summary>
public sealed record LabelFixResult(LabeledSet Set, IReadOnlyList<AppliedLabelFix> Applied, IReadOnlyList<(LabelFix Fix, string Why)> Skipped);

/// <summary>
/// Known label errors corrected when the data is read, never in the files: the <c>label_fixes</c> setting. The
/// photos stay where they are; their labels (and the person's gender and age, which the split stratifies on) change.
/// </summary>
public static class LabelFixes
{
    /// <summary>The setting's value for the public list of the competition's mislabeled people (embedded in the library).</summary>
    public const string Builtin = "builtin";

    const string BuiltinResource = "MaskLab.LabelFixes.competition.csv";
    static readonly string[] Columns = ["person", "field", "value"];

    /// <summary>
    /// The fixes <paramref name="source"/> names: <see cref="Builtin"/>, a fixes CSV (<c>person,field,value</c>, other
    /// columns such as <c>note</c> ignored), or a synthetic set's <c>train_truth.csv</c> (the planted errors undone).
    /// </summary>
    public static IReadOnlyList<LabelFix> Load(string source)
    {
        if (source == Builtin) return Parse(CsvTable.ReadText(BuiltinText(), "builtin label fixes", Columns));
        if (!File.Exists(source)) throw new MaskLabInputException($"label_fixes '{source}' is not builtin, none or an existing file");
        InputFile.Require(source, "label_fixes file", InputFile.MaxCsvBytes);
        var header = CsvTable.Header(source);
        if (header.Contains("given_class", StringComparer.OrdinalIgnoreCase) && header.Contains("true_class", StringComparer.OrdinalIgnoreCase)) return FromSyntheticTruth(source);
        return Parse(CsvTable.Read(source, Columns));
    }

    /// <summary>The text of the built-in list.</summary>
    public static string BuiltinText()
    {
        using var stream = typeof(LabelFixes).Assembly.GetManifestResourceStream(BuiltinResource)
            ?? throw new InvalidOperationException($"the library lacks its embedded label fixes '{BuiltinResource}'");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    static IReadOnlyList<LabelFix> Parse(CsvTable table)
    {
        var fixes = new List<LabelFix>();
        var seen = new Dictionary<(string, string), long>();
        foreach (var row in table.Rows)
        {
            var (person, field, value) = (row.Values[0], row.Values[1].ToLowerInvariant(), row.Values[2].ToLowerInvariant());
            string Where() => $"{table.Path} line {row.Line}";
            if (person.Length == 0) throw new MaskLabInputException($"{Where()}: empty person id");
            if (!seen.TryAdd((person, field), row.Line))
                throw new MaskLabInputException($"{Where()}: person {person} field {field} repeats line {seen[(person, field)]}");
            var ok = field switch
            {
                LabelFix.GenderField => value is "male" or "female" or "flip",
                LabelFix.AgeField => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var age)
                                     && age >= CompetitionLayout.MinAge && age <= CompetitionLayout.MaxAge,
                LabelFix.DropField => value.Length == 0,
                _ when TaskClasses.MaskFromPhotoName(field) is not null => value is "wear" or "incorrect" or "not_wear" or "drop",
                _ => throw new MaskLabInputException(
                    $"{Where()}: field '{field}' is not gender, age, drop or a photo name (mask1..mask5, incorrect_mask, normal)"),
            };
            if (!ok)
                throw new MaskLabInputException($"{Where()}: value '{value}' does not fit field {field} ({Expected(field)})");
            fixes.Add(new LabelFix(person, field, value, Where()));
        }
        return fixes;
    }

    static string Expected(string field) => field switch
    {
        LabelFix.GenderField => "male, female or flip",
        LabelFix.AgeField => $"a whole number {CompetitionLayout.MinAge}..{CompetitionLayout.MaxAge}",
        LabelFix.DropField => "no value",
        _ => "wear, incorrect, not_wear or drop",
    };

    /// <summary>
    /// The fixes that undo a synthetic set's planted errors, from its <c>train_truth.csv</c>
    /// (<c>path,given_class,true_class,true_age</c>): a wrong gender or age band is a person fix (to the true gender or
    /// age), a wrong mask state a photo fix.
    /// </summary>
    public static IReadOnlyList<LabelFix> FromSyntheticTruth(string truthFile)
    {
        var table = CsvTable.Read(truthFile, "path", "given_class", "true_class", "true_age");
        var fixes = new List<LabelFix>();
        var done = new HashSet<(string, string)>();
        foreach (var row in table.Rows)
        {
            var where = $"{truthFile} line {row.Line}";
            if (!int.TryParse(row.Values[1], CultureInfo.InvariantCulture, out var given) || (uint)given >= TaskClasses.Count
                || !int.TryParse(row.Values[2], CultureInfo.InvariantCulture, out var truth) || (uint)truth >= TaskClasses.Count
                || !int.TryParse(row.Values[3], CultureInfo.InvariantCulture, out var trueAge))
                throw new MaskLabInputException($"{where}: given_class, true_class and true_age must be whole numbers (classes 0..17)");
            if (given == truth) continue;
            var path = row.Values[0].Replace('\\', '/');
            var folder = Path.GetFileName(Path.GetDirectoryName(path)) ?? "";
            if (!CompetitionLayout.TryParsePersonFolder(folder, out var person, out var why))
                throw new MaskLabInputException($"{where}: '{path}' is not in a person folder ({why})");
            var stem = Path.GetFileNameWithoutExtension(path).ToLowerInvariant();
            var (gm, gg, ga) = TaskClasses.Decode(given);
            var (tm, tg, ta) = TaskClasses.Decode(truth);
            if (gg != tg && done.Add((person.Id, LabelFix.GenderField)))
                fixes.Add(new LabelFix(person.Id, LabelFix.GenderField, TaskClasses.GenderWord(tg), where));
            if (ga != ta && done.Add((person.Id, LabelFix.AgeField)))
                fixes.Add(new LabelFix(person.Id, LabelFix.AgeField, trueAge.ToString(CultureInfo.InvariantCulture), where));
            if (gm != tm && done.Add((person.Id, stem)))
                fixes.Add(new LabelFix(person.Id, stem, MaskValue(tm), where));
        }
        return fixes;
    }

    /// <summary>The fix file's word for a mask state.</summary>
    public static string MaskValue(MaskState m) => m switch
    {
        MaskState.Wear => "wear",
        MaskState.Incorrect => "incorrect",
        _ => "not_wear",
    };

    static MaskState ParseMask(string value) => value switch
    {
        "wear" => MaskState.Wear,
        "incorrect" => MaskState.Incorrect,
        _ => MaskState.NotWear,
    };

    /// <summary>
    /// Applies the fixes to a competition-layout set. A fix for a person the set does not hold, or one that changes
    /// nothing (the label is already right), is skipped and reported, not an error: one list serves several copies.
    /// Labels are recomputed under the scoring age cuts, as the reader makes them.
    /// </summary>
    public static LabelFixResult Apply(LabeledSet set, IReadOnlyList<LabelFix> fixes)
    {
        if (fixes.Count == 0) return new LabelFixResult(set, [], []);
        if (!set.IsTaskClasses || set.Samples.Any(s => s.Person is null || s.Mask is null))
            throw new MaskLabInputException("label_fixes correct the competition layout's people; this data is an image folder");

        var byPerson = set.Samples.GroupBy(s => s.Person!.Id).ToDictionary(g => g.Key, g => g.ToList());
        var applied = new List<AppliedLabelFix>();
        var skipped = new List<(LabelFix, string)>();
        var replaced = new Dictionary<string, Sample?>(StringComparer.Ordinal); // path -> new sample (null: dropped)

        foreach (var personFixes in fixes.GroupBy(f => f.Person))
        {
            if (!byPerson.TryGetValue(personFixes.Key, out var photos))
            {
                skipped.AddRange(personFixes.Select(f => (f, "person not in the data")));
                continue;
            }
            var person = photos[0].Person!;
            var gender = person.Gender;
            var age = person.Age;
            var masks = photos.ToDictionary(p => p.Path, p => (MaskState?)p.Mask!.Value);
            bool drop = false;
            foreach (var f in personFixes)
            {
                switch (f.Field)
                {
                    case LabelFix.DropField:
                        drop = true;
                        applied.Add(new AppliedLabelFix(f, person.Folder, "dropped", photos.Count));
                        break;
                    case LabelFix.GenderField:
                    {
                        var to = f.Value switch { "male" => Gender.Male, "female" => Gender.Female, _ => gender == Gender.Male ? Gender.Female : Gender.Male };
                        if (to == gender) { skipped.Add((f, $"already {TaskClasses.GenderWord(to)}")); break; }
                        applied.Add(new AppliedLabelFix(f, TaskClasses.GenderWord(gender), TaskClasses.GenderWord(to), photos.Count));
                        gender = to;
                        break;
                    }
                    case LabelFix.AgeField:
                    {
                        var to = int.Parse(f.Value, CultureInfo.InvariantCulture);
                        if (to == age) { skipped.Add((f, $"already {to}")); break; }
                        applied.Add(new AppliedLabelFix(f, age.ToString(CultureInfo.InvariantCulture), f.Value, photos.Count));
                        age = to;
                        break;
                    }
                    default:
                    {
                        var photo = photos.FirstOrDefault(p => Path.GetFileNameWithoutExtension(p.Path).Equals(f.Field, StringComparison.OrdinalIgnoreCase));
                        if (photo is null) { skipped.Add((f, $"person has no {f.Field} photo")); break; }
                        var old = photo.Mask!.Value;
                        if (f.Value == "drop")
                        {
                            masks[photo.Path] = null;
                            applied.Add(new AppliedLabelFix(f, MaskValue(old), "dropped", 1));
                            break;
                        }
                        var to = ParseMask(f.Value);
                        if (to == old) { skipped.Add((f, $"already {f.Value}")); break; }
                        masks[photo.Path] = to;
                        applied.Add(new AppliedLabelFix(f, MaskValue(old), f.Value, 1));
                        break;
                    }
                }
            }
            var fixedPerson = person with { Gender = gender, Age = age };
            foreach (var p in photos)
            {
                var mask = masks[p.Path];
                replaced[p.Path] = drop || mask is null ? null
                    : p with { Person = fixedPerson, Mask = mask, Label = TaskClasses.Encode(mask.Value, gender, AgeCuts.Scoring.Band(age)) };
            }
        }

        var samples = new List<Sample>(set.Samples.Count);
        foreach (var s in set.Samples)
        {
            if (!replaced.TryGetValue(s.Path, out var r)) samples.Add(s);
            else if (r is not null) samples.Add(r);
        }
        return new LabelFixResult(set with { Samples = samples }, applied, skipped);
    }

    /// <summary>Writes fixes as a <c>person,field,value,note</c> CSV that <see cref="Load"/> reads back.</summary>
    public static void Write(string file, IEnumerable<(LabelFix Fix, string Note)> fixes) =>
        CsvText.WriteFile(file, ["person", "field", "value", "note"],
            fixes.Select(f => (IReadOnlyList<string>)[f.Fix.Person, f.Fix.Field, f.Fix.Value, f.Note]));
}
