using System.Security.Cryptography;
using System.Text;
using MaskLab.Data.Layout;

namespace MaskLab.Synthetic;

/// <summary>How a train person's given labels differ from the truth.</summary>
internal enum NoiseKind { None, SwappedIncorrectNormal, WrongGender, WrongAgeBand, Stranger }

/// <summary>Who a stranger's photo filed in a person's folder shows (the uniform noise).</summary>
internal sealed record Stranger(Gender Gender, int Age, MaskState Mask);

/// <summary>
/// One person of the set, decided before any drawing: true attributes, the (possibly wrong) attributes the
/// files claim, and the file names. Eval people have no folder; each photo has its own hashed id.
/// </summary>
internal sealed record PlannedPerson(
    int Index,
    bool IsEval,
    string Id,
    Gender Gender,
    int Age,
    Gender GivenGender,
    int GivenAge,
    NoiseKind Noise,
    string[] FileNames,
    int JunkMask,
    Stranger?[]? Strangers = null)
{
    /// <summary>The stranger photo <paramref name="k"/> shows instead of the person, if any.</summary>
    public Stranger? StrangerIn(int k) => Strangers?[k];

    /// <summary>The gender and age of whoever photo <paramref name="k"/> shows.</summary>
    public (Gender Gender, int Age) Shown(int k) => StrangerIn(k) is { } s ? (s.Gender, s.Age) : (Gender, Age);

    public string Folder => $"{Id}_{TaskClasses.GenderWord(GivenGender)}_{Population.Race}_{GivenAge}";

    /// <summary>What photo <paramref name="k"/> shows (the swap noise exchanges photos 5 and 6).</summary>
    public MaskState ShownMask(int k) => StrangerIn(k) is { } stranger ? stranger.Mask : (k, Noise) switch
    {
        ( < 5, _) => MaskState.Wear,
        (5, NoiseKind.SwappedIncorrectNormal) => MaskState.NotWear,
        (6, NoiseKind.SwappedIncorrectNormal) => MaskState.Incorrect,
        (5, _) => MaskState.Incorrect,
        _ => MaskState.NotWear,
    };

    /// <summary>What photo <paramref name="k"/>'s file name says.</summary>
    public static MaskState NamedMask(int k) => k < 5 ? MaskState.Wear : k == 5 ? MaskState.Incorrect : MaskState.NotWear;

    public int TrueClass(int k) => TaskClasses.Encode(ShownMask(k), Shown(k).Gender, AgeCuts.Scoring.Band(Shown(k).Age));

    public int GivenClass(int k) => TaskClasses.Encode(NamedMask(k), GivenGender, AgeCuts.Scoring.Band(GivenAge));
}

/// <summary>
/// Who is in the set. Everything here is drawn sequentially from streams of its own, so the plan is the same
/// whatever order the portraits are later drawn in.
/// </summary>
internal static class Population
{
    public const string Race = "Asian";
    public const int PhotosPerPerson = 7;

    public static readonly string[] PhotoStems = ["mask1", "mask2", "mask3", "mask4", "mask5", "incorrect_mask", "normal"];

    // People per (gender, age band) in the real train set: 556 410 86 | 728 813 107 (DOMAIN's per-class counts / 5).
    static readonly double[] RealStrata = [556, 410, 86, 728, 813, 107];

    // Real ages: a crowd of students around 20, few in their 30s and 40s, a second crowd in the 50s and a thin band
    // of exactly-60s. Weights per age inside each band.
    static readonly double[] YoungAgeWeights = [7, 9, 11, 11, 10, 9, 8, 7, 6, 5, 5, 4]; // 18..29
    static readonly double[] MiddleAgeWeights = BuildMiddleWeights();                   // 30..59

    static double[] BuildMiddleWeights()
    {
        var w = new double[30];
        for (var i = 0; i < 30; i++)
        {
            var age = 30 + i;
            w[i] = age switch { < 45 => 1.5, < 50 => 3.5, < 53 => 7, < 57 => 9, < 59 => 8, _ => 5 };
        }
        return w;
    }

    // Stream purposes; each kind of decision has its own so adding one never shifts another.
    const int TrainStrata = 1, TrainNoise = 2, TrainFiles = 3, EvalStrata = 4, EvalOrder = 5;

    /// <summary>Largest-remainder split of <paramref name="n"/> people over the six real strata.</summary>
    public static int[] Quotas(int n)
    {
        var total = RealStrata.Sum();
        var exact = RealStrata.Select(s => s * n / total).ToArray();
        var q = exact.Select(e => (int)Math.Floor(e)).ToArray();
        var left = n - q.Sum();
        foreach (var i in Enumerable.Range(0, q.Length).OrderByDescending(i => exact[i] - q[i]).ThenBy(i => i).Take(left))
            q[i]++;
        return q;
    }

    static (Gender, int)[] DrawPeople(int n, SynthRandom r)
    {
        var strata = new List<int>(n);
        var q = Quotas(n);
        for (var s = 0; s < q.Length; s++) strata.AddRange(Enumerable.Repeat(s, q[s]));
        r.Shuffle(strata);
        return strata.Select(s => ((Gender)(s / 3), DrawAge(r, (AgeBand)(s % 3)))).ToArray();
    }

    static int DrawAge(SynthRandom r, AgeBand band) => band switch
    {
        AgeBand.Under30 => 18 + r.Weighted(YoungAgeWeights),
        AgeBand.From30To59 => 30 + r.Weighted(MiddleAgeWeights),
        _ => 60,
    };

    public static PlannedPerson[] Train(SynthOptions o)
    {
        var people = DrawPeople(o.People, SynthRandom.For(o.Seed, TrainStrata, 0));
        var uniform = o.NoiseKind == LabelNoiseKind.Uniform;
        var noise = uniform ? people.Select(p => (NoiseKind.None, p.Item1, p.Item2)).ToArray() : PlanNoise(people, o, SynthRandom.For(o.Seed, TrainNoise, 0));
        var strangers = uniform ? PlanStrangers(people, o, SynthRandom.For(o.Seed, TrainNoise, 0)) : null;
        var files = SynthRandom.For(o.Seed, TrainFiles, 0);
        var result = new PlannedPerson[people.Length];
        var id = 0;
        for (var i = 0; i < people.Length; i++)
        {
            // Real ids have gaps (people dropped from the set); readers must not count on a dense range.
            id += files.Chance(0.7) ? 1 : files.Between(2, 4);
            var (g, age) = people[i];
            var (kind, givenGender, givenAge) = noise[i];
            var names = PickExtensions(files).Select((ext, k) => $"{PhotoStems[k]}.{ext}").ToArray();
            var junk = 0;
            if (o.AppleDoubleJunk && files.Chance(0.04))
                for (var j = files.Between(1, 3); j > 0; j--) junk |= 1 << files.Next(PhotosPerPerson);
            result[i] = new PlannedPerson(i, false, id.ToString("D6"), g, age, givenGender, givenAge,
                strangers?[i] is not null ? NoiseKind.Stranger : kind, names, junk, strangers?[i]);
        }
        return result;
    }

    /// <summary>
    /// The uniform noise: the requested share of train photos, drawn without replacement, each showing a stranger of a
    /// class drawn evenly from the 17 the photo is not labelled with (its mask state from the file name, its gender and
    /// age band from the person's folder, which this noise leaves right).
    /// </summary>
    static Stranger?[]?[] PlanStrangers((Gender G, int Age)[] people, SynthOptions o, SynthRandom r)
    {
        var plan = new Stranger?[]?[people.Length];
        var photos = Enumerable.Range(0, people.Length * PhotosPerPerson).ToList();
        r.Shuffle(photos);
        var count = (int)Math.Round(o.LabelNoise * photos.Count);
        foreach (var photo in photos.Take(count).Order())
        {
            int person = photo / PhotosPerPerson, k = photo % PhotosPerPerson;
            var (g, age) = people[person];
            int given = TaskClasses.Encode(PlannedPerson.NamedMask(k), g, AgeCuts.Scoring.Band(age));
            int shown = r.Next(TaskClasses.Count - 1);
            if (shown >= given) shown++;
            var (m, sg, band) = TaskClasses.Decode(shown);
            plan[person] ??= new Stranger?[PhotosPerPerson];
            plan[person]![k] = new Stranger(sg, DrawAge(r, band), m);
        }
        return plan;
    }

    /// <summary>Mostly .jpg for a whole person, sometimes .jpeg or .png, now and then mixed within one folder.</summary>
    static string[] PickExtensions(SynthRandom r)
    {
        var u = r.NextDouble();
        string[] one(string e) => Enumerable.Repeat(e, PhotosPerPerson).ToArray();
        if (u < 0.90) return one("jpg");
        if (u < 0.95) return one("jpeg");
        if (u < 0.98) return one("png");
        return Enumerable.Range(0, PhotosPerPerson).Select(_ => r.Weighted([0.6, 0.2, 0.2]) switch { 0 => "jpg", 1 => "jpeg", _ => "png" }).ToArray();
    }

    /// <summary>
    /// Chooses wrong-label events until their photos reach the requested share of train photos: a whole person
    /// in the wrong gender or age folder (7 photos), or a person's incorrect / normal photos swapped (2 photos).
    /// </summary>
    static (NoiseKind, Gender, int)[] PlanNoise((Gender G, int Age)[] people, SynthOptions o, SynthRandom r)
    {
        var plan = people.Select(p => (NoiseKind.None, p.G, p.Age)).ToArray();
        var remaining = (int)Math.Round(o.LabelNoise * people.Length * PhotosPerPerson);
        var order = Enumerable.Range(0, people.Length).ToList();
        r.Shuffle(order);
        foreach (var i in order)
        {
            if (remaining < 2) break;
            var (g, age) = people[i];
            var kind = remaining >= PhotosPerPerson
                ? r.Weighted([0.3, 0.4, 0.3]) switch { 0 => NoiseKind.SwappedIncorrectNormal, 1 => NoiseKind.WrongGender, _ => NoiseKind.WrongAgeBand }
                : NoiseKind.SwappedIncorrectNormal;
            plan[i] = kind switch
            {
                NoiseKind.WrongGender => (kind, g == Gender.Male ? Gender.Female : Gender.Male, age),
                NoiseKind.WrongAgeBand => (kind, g, NeighbourBandAge(age, r)),
                _ => (kind, g, age),
            };
            remaining -= kind == NoiseKind.SwappedIncorrectNormal ? 2 : PhotosPerPerson;
        }
        return plan;
    }

    /// <summary>A plausible typing slip that lands in the neighbouring band.</summary>
    static int NeighbourBandAge(int age, SynthRandom r) => AgeCuts.Scoring.Band(age) switch
    {
        AgeBand.Under30 => r.Between(30, 34),
        AgeBand.From30To59 when age < 45 => r.Between(25, 29),
        AgeBand.From30To59 => 60,
        _ => r.Between(55, 59),
    };

    public static PlannedPerson[] Eval(SynthOptions o)
    {
        var people = DrawPeople(o.EvalPeople, SynthRandom.For(o.Seed, EvalStrata, 0));
        var result = new PlannedPerson[people.Length];
        for (var i = 0; i < people.Length; i++)
        {
            var (g, age) = people[i];
            var names = Enumerable.Range(0, PhotosPerPerson).Select(k => EvalImageId(o.Seed, i, k)).ToArray();
            result[i] = new PlannedPerson(i, true, "", g, age, g, age, NoiseKind.None, names, 0);
        }
        return result;
    }

    /// <summary>A 40-hex id like the competition's (a SHA-1), stable for (seed, person, photo).</summary>
    static string EvalImageId(int seed, int person, int photo)
    {
        var hash = SHA1.HashData(Encoding.ASCII.GetBytes($"masklab-synth/{seed}/{person}/{photo}"));
        return Convert.ToHexStringLower(hash) + ".jpg";
    }

    /// <summary>The shuffled, fixed order of eval photos in info.csv, as (person, photo) pairs.</summary>
    public static (int Person, int Photo)[] EvalRows(SynthOptions o, int people)
    {
        var rows = new List<(int, int)>(people * PhotosPerPerson);
        for (var p = 0; p < people; p++)
            for (var k = 0; k < PhotosPerPerson; k++) rows.Add((p, k));
        SynthRandom.For(o.Seed, EvalOrder, 0).Shuffle(rows);
        return rows.ToArray();
    }
}
