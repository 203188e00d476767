using MaskLab.Data.Faces;
using MaskLab.Data.Layout;

namespace MaskLab.Synthetic;

/// <summary>
/// The synthetic set's face truth, <c>DIR/face_boxes.csv</c>: for every photo (train and eval) the box around the
/// face outline the painter drew, in pixels (<c>path,x,y,w,h</c>, paths as in <c>train_truth.csv</c>). Kept beside
/// the photos like <c>train_truth.csv</c>, never read by training. Computed from the set's options without painting,
/// so a set made before the file existed gets it on demand, and its photos stay untouched.
/// </summary>
internal static class SyntheticFaceBoxes
{
    public const string FileName = "face_boxes.csv";

    internal static void Write(string root, SynthOptions o, PlannedPerson[] train, PlannedPerson[] eval) =>
        FaceBoxFile.Write(Path.Combine(root, FileName), Rows(o, train).Concat(Rows(o, eval)));

    static IEnumerable<FaceBoxRow> Rows(SynthOptions o, PlannedPerson[] people)
    {
        foreach (var person in people)
        {
            var own = SyntheticGenerator.LookOf(o, person);
            for (var k = 0; k < Population.PhotosPerPerson; k++)
            {
                var look = SyntheticGenerator.LookOf(o, person, own, k);
                var r = PortraitPainter.FaceBox(look, SyntheticGenerator.ShotOf(o, person, look, k), o.Width, o.Height);
                var dir = person.IsEval ? "eval/images" : $"train/images/{person.Folder}";
                yield return new FaceBoxRow($"{dir}/{person.FileNames[k]}", new FaceBox(r.Left, r.Top, r.Width, r.Height));
            }
        }
    }

    /// <summary>
    /// The path of <paramref name="setDir"/>'s face box file, writing it first for a set generated before face
    /// boxes were recorded. Throws <see cref="MaskLabInputException"/> when the folder holds no finished synthetic set.
    /// </summary>
    public static string Ensure(string setDir)
    {
        var file = Path.Combine(setDir, FileName);
        if (File.Exists(file)) return file;
        var o = SyntheticGenerator.OptionsOf(setDir)
            ?? throw new MaskLabInputException($"'{setDir}' holds no synthetic set (no {SyntheticGenerator.MarkerFile}), so its face boxes are unknown");
        FaceBoxFile.Write(file, Rows(o, Population.Train(o)).Concat(Rows(o, Population.Eval(o))));
        return file;
    }

    /// <summary>Every photo's face box, keyed by its path relative to <paramref name="setDir"/> ('/' separators).</summary>
    public static IReadOnlyDictionary<string, FaceBox> Read(string setDir) =>
        FaceBoxFile.Read(Ensure(setDir)).Where(r => r.Box is not null).ToDictionary(r => r.Path, r => r.Box!.Value, StringComparer.Ordinal);

    /// <summary>
    /// Up to <paramref name="perKind"/> train photos of each shown mask state (<c>wear</c>, <c>incorrect</c>,
    /// <c>none</c>, from <c>train_truth.csv</c>'s true class, so swapped labels do not mislead), drawn evenly with
    /// <paramref name="seed"/>, with their face boxes and full paths: the input of
    /// <see cref="FaceDetectionMeasure.Measure"/>.
    /// </summary>
    public static IReadOnlyList<FaceTruth> Sample(string setDir, int perKind, int seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(perKind);
        var boxes = Read(setDir);
        var truth = CsvTable.Read(Path.Combine(setDir, SyntheticGenerator.TruthFile), "path", "true_class");
        var rng = new Random(seed);
        var picked = new List<FaceTruth>();
        foreach (var group in truth.Rows
            .Select(r => (Path: r.Values[0], Kind: KindOf(int.Parse(r.Values[1], System.Globalization.CultureInfo.InvariantCulture))))
            .GroupBy(r => r.Kind).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var rows = group.ToArray();
            rng.Shuffle(rows);
            picked.AddRange(rows.Take(perKind).Select(r =>
                new FaceTruth(Path.GetFullPath(Path.Combine(setDir, r.Path)), boxes[r.Path], r.Kind)));
        }
        return picked;
    }

    static string KindOf(int taskClass) => TaskClasses.Decode(taskClass).Mask switch
    {
        MaskState.Wear => "wear",
        MaskState.Incorrect => "incorrect",
        _ => "none",
    };
}
