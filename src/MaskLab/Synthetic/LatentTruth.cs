using System.Globalization;
using MaskLab.Data.Layout;

namespace MaskLab.Synthetic;

/// <summary>
/// One photo of a synthetic set with what the painter drew it from: the person's true gender and age, the mask
/// placement it shows, and every latent cue of the person's look (numbers, or names for the categorical ones).
/// </summary>
internal sealed record LatentPhoto(bool IsEval, int Person, string Path, int TrueClass, Gender Gender, int Age, string Placement,
    IReadOnlyList<double> Numbers, IReadOnlyList<string> Categories)
{
    /// <summary>The mask state the placement shows: worn, worn wrongly (under the nose, on the chin) or none.</summary>
    public MaskState ShownMask => Placement switch
    {
        nameof(MaskPlacement.Worn) => MaskState.Wear,
        nameof(MaskPlacement.None) => MaskState.NotWear,
        _ => MaskState.Incorrect,
    };
}

/// <summary>
/// The synthetic set's latent truth, <c>DIR/latent_truth.csv</c>: for every photo (train and eval) the values the
/// painter drew the person from: the masculinity score that shapes head, jaw, brows and lips; the age cues, each with
/// the person's own offset (wrinkles, greying after any dye, hairline recession, hair density, glasses); hair, beard
/// and make-up; and the mask placement of that photo. <c>masklab ceiling</c> fits a classifier on them: what a
/// model that saw every cue perfectly could reach. Like <c>train_truth.csv</c> it is never read by training, and it
/// is computed from the set's options without painting, so an older set gets it on demand.
/// </summary>
internal static class LatentTruth
{
    public const string FileName = "latent_truth.csv";

    /// <summary>The numeric cues, in file order.</summary>
    public static readonly string[] NumberNames =
    [
        "masculinity", "wrinkle", "grey", "recession", "hair_density", "hair_volume", "hair_length", "beard_grey",
        "glasses", "blush", "eyeliner", "earrings", "eye_width", "eye_height", "brow_thickness", "brow_arch", "nose_width",
        "lip_top", "lip_bottom", "mouth_width", "jaw", "chin", "head_width", "head_height", "shoulder_half",
    ];

    /// <summary>The categorical cues, in file order.</summary>
    public static readonly string[] CategoryNames = ["hair_style", "fringe", "beard"];

    static readonly string[] Leading = ["split", "path", "person", "true_class", "gender", "age", "placement"];

    internal static void Write(string root, SynthOptions o, PlannedPerson[] train, PlannedPerson[] eval) =>
        Core.CsvText.WriteFile(Path.Combine(root, FileName), [.. Leading, .. NumberNames, .. CategoryNames],
            Rows(o, train).Concat(Rows(o, eval)));

    static (string[] Numbers, string[] Categories) Cues(Look look) =>
        (Numbers(look).Select(v => v.ToString("R", CultureInfo.InvariantCulture)).ToArray(), Categories(look).ToArray());

    static IEnumerable<string[]> Rows(SynthOptions o, PlannedPerson[] people)
    {
        foreach (var person in people)
        {
            var own = SyntheticGenerator.LookOf(o, person);
            var ownCues = Cues(own);
            for (var k = 0; k < Population.PhotosPerPerson; k++)
            {
                var look = SyntheticGenerator.LookOf(o, person, own, k);
                // A stranger's photo (the uniform noise) has cues of its own; every other photo shares the person's.
                var (numbers, categories) = ReferenceEquals(look, own) ? ownCues : Cues(look);
                var shot = SyntheticGenerator.ShotOf(o, person, look, k);
                var dir = person.IsEval ? "eval/images" : $"train/images/{person.Folder}";
                yield return
                [
                    person.IsEval ? "eval" : "train", $"{dir}/{person.FileNames[k]}",
                    person.Index.ToString(CultureInfo.InvariantCulture), person.TrueClass(k).ToString(CultureInfo.InvariantCulture),
                    TaskClasses.GenderWord(person.Shown(k).Gender), person.Shown(k).Age.ToString(CultureInfo.InvariantCulture), shot.Placement.ToString(),
                    .. numbers, .. categories,
                ];
            }
        }
    }

    static double[] Numbers(Look l) =>
    [
        l.Masculinity, l.Wrinkle, l.Grey, l.Recession, l.Density, l.HairVolume, l.HairLength,
        l.Beard == BeardStyle.None ? 0 : BeardGrey(l), l.Glasses, l.Blush, l.Eyeliner ? 1 : 0, l.Earrings ? 1 : 0,
        l.EyeW, l.EyeH, l.BrowThick, l.BrowArch, l.NoseW, l.LipTop, l.LipBottom, l.MouthW, l.Jaw, l.Chin, l.Rx, l.Ry,
        l.ShoulderHalf,
    ];

    static string[] Categories(Look l) => [l.Hair.ToString(), l.Fringe.ToString(), l.Beard.ToString()];

    /// <summary>How far the beard's colour has gone to grey (its lightness, 0..1).</summary>
    static double BeardGrey(Look l) => (l.BeardColor.Red + l.BeardColor.Green + l.BeardColor.Blue) / (3 * 255.0);

    /// <summary>
    /// The path of <paramref name="setDir"/>'s latent truth, writing it first for a set generated before it was
    /// recorded. Throws <see cref="MaskLabInputException"/> when the folder holds no finished synthetic set.
    /// </summary>
    public static string Ensure(string setDir)
    {
        var file = Path.Combine(setDir, FileName);
        if (File.Exists(file)) return file;
        var o = SyntheticGenerator.OptionsOf(setDir)
            ?? throw new MaskLabInputException($"'{setDir}' holds no synthetic set (no {SyntheticGenerator.MarkerFile}), so its latent truth is unknown");
        Write(setDir, o, Population.Train(o), Population.Eval(o));
        return file;
    }

    /// <summary>
    /// <paramref name="people"/> more training people of <paramref name="setDir"/>'s generator, drawn with another seed and
    /// never painted: their latent values only, one row per person (its first photo). What a ceiling is fitted on when
    /// the set's own few hundred training people would leave the fit's error in it.
    /// </summary>
    public static IReadOnlyList<LatentPhoto> Draw(string setDir, int people, int seed)
    {
        var o = SyntheticGenerator.OptionsOf(setDir)
            ?? throw new MaskLabInputException($"'{setDir}' holds no synthetic set (no {SyntheticGenerator.MarkerFile}), so its generator is unknown");
        var drawn = o with { People = people, EvalPeople = 0, Seed = seed };
        return Population.Train(drawn).Select(person =>
        {
            var look = SyntheticGenerator.LookOf(drawn, person);
            var shot = SyntheticGenerator.ShotOf(drawn, person, look, 0);
            return new LatentPhoto(false, person.Index, $"drawn/{person.Index}", person.TrueClass(0), person.Gender, person.Age,
                shot.Placement.ToString(), Numbers(look), Categories(look));
        }).ToArray();
    }

    static LatentPhoto Parse(string[] v) => new(v[0] == "eval", int.Parse(v[2], CultureInfo.InvariantCulture), v[1],
        int.Parse(v[3], CultureInfo.InvariantCulture), v[4] == "male" ? Gender.Male : Gender.Female, int.Parse(v[5], CultureInfo.InvariantCulture), v[6],
        v.Skip(Leading.Length).Take(NumberNames.Length).Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray(),
        v.Skip(Leading.Length + NumberNames.Length).ToArray());

    /// <summary>Every photo of the set with its latent values.</summary>
    public static IReadOnlyList<LatentPhoto> Read(string setDir)
    {
        var file = Ensure(setDir);
        var table = CsvTable.Read(file, [.. Leading, .. NumberNames, .. CategoryNames]);
        var photos = new List<LatentPhoto>(table.Rows.Count);
        foreach (var row in table.Rows)
        {
            try
            {
                photos.Add(Parse(row.Values));
            }
            catch (FormatException)
            {
                throw new MaskLabInputException($"{file} line {row.Line}: a value is not a number");
            }
        }
        return photos;
    }
}
