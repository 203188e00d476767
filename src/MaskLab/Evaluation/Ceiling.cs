using System.Text.Json.Serialization;
using MaskLab.Data.Layout;
using MaskLab.Synthetic;
using Microsoft.ML;
using Microsoft.ML.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Evaluation;

/// <summary>
/// How far a perfect eye could go on a synthetic set: the eval scores of classifiers fitted on the latent cues the
/// painter drew each training person from, rather than on pixels. Mask comes from each photo's drawn placement.
/// </summary>
public sealed record CeilingResult
{
    [JsonPropertyName("macro_f1")] public required double MacroF1 { get; init; }
    [JsonPropertyName("accuracy")] public required double Accuracy { get; init; }
    [JsonPropertyName("mask_f1")] public required double MaskF1 { get; init; }
    [JsonPropertyName("gender_f1")] public required double GenderF1 { get; init; }
    [JsonPropertyName("age_f1")] public required double AgeF1 { get; init; }
    [JsonPropertyName("train_people")] public required int TrainPeople { get; init; }
    [JsonPropertyName("eval_people")] public required int EvalPeople { get; init; }
    [JsonPropertyName("eval_photos")] public required int EvalPhotos { get; init; }
    /// <summary>The classifier cross-validation chose for gender and for age, e.g. "mlp, class-balanced".</summary>
    [JsonPropertyName("gender_model")] public required string GenderModel { get; init; }
    [JsonPropertyName("age_model")] public required string AgeModel { get; init; }
    /// <summary>Held-out F1 of those choices on the fitted people (5-fold cross-validation on a few hundred).</summary>
    [JsonPropertyName("gender_cv_f1")] public required double GenderCvF1 { get; init; }
    [JsonPropertyName("age_cv_f1")] public required double AgeCvF1 { get; init; }
    /// <summary>drawn: people drawn from the set's generator (latent values only); set: the set's own training people.</summary>
    [JsonPropertyName("fit_on")] public required string FitOn { get; init; }
}

/// <summary>
/// The synthetic set's ceiling (<c>masklab ceiling</c>). Each person's latent cues (<see cref="LatentTruth"/>) are
/// standardised (categorical cues one-hot); gender and the age band (cut at 30 / 60, the true ages, no label noise)
/// are each fitted by the best of six classifiers, chosen by 5-fold cross-validation over the training people on the
/// attribute's macro F1: multinomial logistic regression (ML.NET's L-BFGS maximum entropy), gradient-boosted trees
/// (ML.NET's FastTree, one against the rest) and a two-layer MLP (TorchSharp), each with plain or class-balanced
/// example weights (the balanced ones trade accuracy for the rare 60+ band, which macro F1 rewards). The chosen one is
/// refitted on all training people and predicts the eval people; every eval photo's class is then its drawn mask
/// state with the person's predicted gender and age band. The cues are person-level and exact, so this bounds from
/// above what a model that reads them from pixels (through masks, poses and lighting) can do, up to the fit's own
/// error on a few hundred people.
/// </summary>
public static class Ceiling
{
    const int Folds = 5, MlpSteps = 300, Hidden = 64;
    const double MlpLr = 0.01, MlpWeightDecay = 1e-2;
    static readonly int[] MlpSeeds = [1, 2, 3];

    sealed record Person(bool IsEval, int Index, double[] Features, int Gender, int AgeBand);


    enum Kind { Logistic, Trees, Mlp }

    sealed record Candidate(Kind Kind, bool Balanced)
    {
        public override string ToString() => Kind switch
        {
            Kind.Logistic => "logistic regression",
            Kind.Trees => "gradient-boosted trees",
            _ => "mlp",
        } + (Balanced ? ", class-balanced" : "");
    }

    static readonly Candidate[] Candidates =
        [.. new[] { Kind.Logistic, Kind.Trees, Kind.Mlp }.SelectMany(k => new[] { new Candidate(k, false), new Candidate(k, true) })];

    /// <summary>People drawn to fit on unless told otherwise: enough that the fit's own error is small beside the eval set's.</summary>
    public const int DefaultFitPeople = 20_000;

    /// <summary>The fewest training people the cue classifiers are fitted on: two per cross-validation fold.</summary>
    public const int MinFitPeople = Folds * 2;

    /// <summary>The seed the fitted people are drawn with (any seed but the set's would do; a fixed one repeats).</summary>
    const int FitSeed = 1_000_003;

    /// <param name="fitPeople">Training people to fit on, drawn from the set's generator (latent values only); 0 fits
    /// on the set's own training people, whose few hundred leave the fit's error in the figure.</param>
    public static CeilingResult Estimate(string setDir, int fitPeople = DefaultFitPeople, Action<string>? stage = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fitPeople);
        var photos = LatentTruth.Read(setDir);
        var evalPhotos = photos.Where(p => p.IsEval).ToArray();
        if (evalPhotos.Length == 0) throw new MaskLabInputException($"'{setDir}' has no eval people to score the ceiling on");
        if (fitPeople > 0) stage?.Invoke($"drawing {fitPeople:N0} training people's latent cues from the set's generator");
        var fitPhotos = fitPeople > 0 ? LatentTruth.Draw(setDir, fitPeople, FitSeed) : photos.Where(p => !p.IsEval).ToArray();
        var (train, evalPeople) = People(fitPhotos, evalPhotos);
        if (train.Length < MinFitPeople)
            throw new MaskLabInputException(fitPeople > 0
                ? $"--fit-people {fitPeople} draws too few people to fit on: the ceiling needs at least {MinFitPeople} (or 0 for the set's own training people)"
                : $"'{setDir}' has {train.Length} training people; the ceiling needs at least {MinFitPeople}");

        var x = train.Select(p => p.Features).ToArray();
        stage?.Invoke("fitting gender on the latent cues");
        var (genderModel, genderCv) = Choose(x, train.Select(p => p.Gender).ToArray(), 2);
        stage?.Invoke("fitting the age band on the latent cues");
        var (ageModel, ageCv) = Choose(x, train.Select(p => p.AgeBand).ToArray(), 3);

        var ex = evalPeople.Select(p => p.Features).ToArray();
        var gender = Predict(genderModel, x, train.Select(p => p.Gender).ToArray(), 2, ex);
        var age = Predict(ageModel, x, train.Select(p => p.AgeBand).ToArray(), 3, ex);
        var byPerson = evalPeople.Select((p, i) => (p.Index, i)).ToDictionary(t => t.Index, t => t.i);

        var truth = evalPhotos.Select(p => p.TrueClass).ToArray();
        var predicted = evalPhotos.Select(p =>
        {
            int i = byPerson[p.Person];
            return TaskClasses.Encode(p.ShownMask, (Gender)gender[i], (AgeBand)age[i]);
        }).ToArray();
        var report = Metrics.Evaluate(truth, predicted, TaskClasses.Names, taskClasses: true);
        return new CeilingResult
        {
            MacroF1 = report.MacroF1, Accuracy = report.Accuracy, MaskF1 = report.MaskF1 ?? 0, GenderF1 = report.GenderF1 ?? 0,
            AgeF1 = report.AgeF1 ?? 0, TrainPeople = train.Length, EvalPeople = evalPeople.Length, EvalPhotos = evalPhotos.Length,
            GenderModel = genderModel.ToString(), AgeModel = ageModel.ToString(), GenderCvF1 = genderCv, AgeCvF1 = ageCv,
            FitOn = fitPeople > 0 ? "drawn" : "set",
        };
    }

    /// <summary>
    /// One row per person of each list: numeric cues standardised by the fitted people's mean and spread, categorical
    /// cues one-hot over the values the fitted people show.
    /// </summary>
    static (Person[] Fit, Person[] Eval) People(IReadOnlyList<LatentPhoto> fitPhotos, IReadOnlyList<LatentPhoto> evalPhotos)
    {
        static LatentPhoto[] FirstOfEach(IEnumerable<LatentPhoto> photos) => photos.GroupBy(p => p.Person).Select(g => g.First()).ToArray();
        var fit = FirstOfEach(fitPhotos);
        int numbers = LatentTruth.NumberNames.Length;
        var mean = new double[numbers];
        var std = new double[numbers];
        for (int j = 0; j < numbers; j++)
        {
            var column = fit.Select(p => p.Numbers[j]).ToArray();
            mean[j] = column.Length > 0 ? column.Average() : 0;
            var sd = column.Length > 1 ? Math.Sqrt(column.Sum(v => (v - mean[j]) * (v - mean[j])) / (column.Length - 1)) : 0;
            std[j] = sd > 1e-12 ? sd : 1;
        }
        var vocabulary = Enumerable.Range(0, LatentTruth.CategoryNames.Length)
            .Select(c => fit.Select(p => p.Categories[c]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray()).ToArray();
        Person Row(LatentPhoto p)
        {
            var features = new List<double>(numbers + vocabulary.Sum(v => v.Length));
            for (int j = 0; j < numbers; j++) features.Add((p.Numbers[j] - mean[j]) / std[j]);
            for (int c = 0; c < vocabulary.Length; c++)
                foreach (var value in vocabulary[c]) features.Add(p.Categories[c] == value ? 1 : 0);
            return new Person(p.IsEval, p.Person, features.ToArray(), (int)p.Gender, (int)AgeCuts.Scoring.Band(p.Age));
        }
        return (fit.Select(Row).ToArray(), FirstOfEach(evalPhotos).Select(Row).ToArray());
    }

    /// <summary>
    /// The candidate with the best held-out macro F1 on the fitted people, and that F1: 5-fold cross-validation on a
    /// few hundred people, one held-out fifth on thousands (where one fifth already holds enough of the rare classes).
    /// </summary>
    static (Candidate, double) Choose(double[][] x, int[] y, int classes)
    {
        int scoredFolds = y.Length >= 2000 ? 1 : Folds;
        // Folds stratified by class, dealt in a fixed order so the choice repeats.
        var fold = new int[y.Length];
        for (int c = 0; c < classes; c++)
        {
            int k = 0;
            for (int i = 0; i < y.Length; i++)
                if (y[i] == c) fold[i] = k++ % Folds;
        }
        Candidate best = Candidates[0];
        double bestF1 = double.NegativeInfinity;
        foreach (var candidate in Candidates)
        {
            var truth = new List<int>();
            var predicted = new List<int>();
            for (int f = 0; f < scoredFolds; f++)
            {
                var fit = Enumerable.Range(0, y.Length).Where(i => fold[i] != f).ToArray();
                var held = Enumerable.Range(0, y.Length).Where(i => fold[i] == f).ToArray();
                predicted.AddRange(Predict(candidate, fit.Select(i => x[i]).ToArray(), fit.Select(i => y[i]).ToArray(), classes,
                    held.Select(i => x[i]).ToArray()));
                truth.AddRange(held.Select(i => y[i]));
            }
            double f1 = Metrics.MacroF1(truth.ToArray(), predicted.ToArray(), classes);
            if (f1 > bestF1) (best, bestF1) = (candidate, f1);
        }
        return (best, bestF1);
    }

    /// <summary>Each example's weight: 1, or, class-balanced, n / (classes x its class's count).</summary>
    static float[] Weights(int[] y, int classes, bool balanced)
    {
        if (!balanced) return Enumerable.Repeat(1f, y.Length).ToArray();
        var counts = Enumerable.Range(0, classes).Select(c => Math.Max(1, y.Count(v => v == c))).ToArray();
        return y.Select(v => (float)(y.Length / (double)(classes * counts[v]))).ToArray();
    }

    /// <summary>Fits <paramref name="candidate"/> on (x, y) and predicts the class of each row of <paramref name="query"/>.</summary>
    static int[] Predict(Candidate candidate, double[][] x, int[] y, int classes, double[][] query) =>
        candidate.Kind == Kind.Mlp ? PredictMlp(candidate, x, y, classes, query) : PredictMlNet(candidate, x, y, classes, query);

    sealed class Row
    {
        public float[] Features { get; set; } = [];
        public uint Label { get; set; }
        public float Weight { get; set; }
    }

    sealed class Prediction
    {
        public uint PredictedLabel { get; set; }
    }

    static int[] PredictMlNet(Candidate candidate, double[][] x, int[] y, int classes, double[][] query)
    {
        var ml = new MLContext(seed: 1);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, x[0].Length);
        // Labels are keys 1..classes (0 is a missing key), as ML.NET's multiclass trainers take them.
        schema[nameof(Row.Label)].ColumnType = new KeyDataViewType(typeof(uint), classes);
        var weights = Weights(y, classes, candidate.Balanced);
        var fit = ml.Data.LoadFromEnumerable(x.Select((r, i) => new Row
        {
            Features = r.Select(v => (float)v).ToArray(), Label = (uint)y[i] + 1, Weight = weights[i],
        }), schema);
        var test = ml.Data.LoadFromEnumerable(query.Select(r => new Row { Features = r.Select(v => (float)v).ToArray(), Label = 1, Weight = 1 }), schema);
        IEstimator<ITransformer> trainer = candidate.Kind switch
        {
            Kind.Logistic => ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(
                nameof(Row.Label), nameof(Row.Features), nameof(Row.Weight)),
            _ => ml.MulticlassClassification.Trainers.OneVersusAll(
                ml.BinaryClassification.Trainers.FastTree(nameof(Row.Label), nameof(Row.Features), nameof(Row.Weight),
                    numberOfLeaves: 8, numberOfTrees: 200, minimumExampleCountPerLeaf: 5, learningRate: 0.05),
                nameof(Row.Label)),
        };
        var model = trainer.Fit(fit);
        return ml.Data.CreateEnumerable<Prediction>(model.Transform(test), reuseRowObject: false)
            .Select(p => Math.Clamp((int)p.PredictedLabel - 1, 0, classes - 1)).ToArray();
    }

    /// <summary>A two-layer MLP fitted once per seed; the argmax of the seeds' mean probabilities.</summary>
    static int[] PredictMlp(Candidate candidate, double[][] x, int[] y, int classes, double[][] query)
    {
        using var scope = NewDisposeScope();
        int features = x[0].Length;
        var inputs = tensor(x.SelectMany(r => r).Select(v => (float)v).ToArray(), new long[] { x.Length, features });
        var targets = tensor(y.Select(v => (long)v).ToArray(), new long[] { y.Length });
        var q = tensor(query.SelectMany(r => r).Select(v => (float)v).ToArray(), new long[] { query.Length, features });
        var weights = candidate.Balanced ? tensor(Enumerable.Range(0, classes).Select(c =>
            (float)(y.Length / (double)(classes * Math.Max(1, y.Count(v => v == c))))).ToArray()) : null;
        var sum = zeros(query.Length, classes);
        foreach (var seed in MlpSeeds)
        {
            torch.manual_seed(seed);
            using var model = nn.Sequential(nn.Linear(features, Hidden), nn.ReLU(), nn.Linear(Hidden, Hidden), nn.ReLU(), nn.Linear(Hidden, classes));
            using var optimizer = optim.AdamW(model.parameters(), MlpLr, weight_decay: MlpWeightDecay);
            model.train();
            for (int step = 0; step < MlpSteps; step++)
            {
                using var stepScope = NewDisposeScope();
                optimizer.zero_grad();
                nn.functional.cross_entropy(model.call(inputs), targets, weights).backward();
                optimizer.step();
            }
            model.eval();
            using (no_grad()) sum.add_(nn.functional.softmax(model.call(q), 1));
        }
        return sum.argmax(1).data<long>().Select(v => (int)v).ToArray();
    }
}

/// <summary>
/// Ceilings already worked out, kept in <c>MASKLAB_HOME/ceilings/</c> (the set's folder is the user's, and never
/// written to): <c>masklab ceiling</c> stores what it finds, and the end of a run and its report read it back to say
/// what fraction of the set's ceiling the run reached. Keyed by the set's full path, its generator record (a set drawn
/// again with other options is another set) and the number of people fitted.
/// </summary>
public static class CeilingCache
{
    static readonly System.Text.Json.JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string? FileFor(string setDir, int fitPeople = Ceiling.DefaultFitPeople)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(setDir));
        var marker = Path.Combine(full, SyntheticGenerator.MarkerFile);
        if (!File.Exists(marker)) return null;
        var key = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{full}\n{File.ReadAllText(marker)}\n{fitPeople}"));
        return Path.Combine(MaskLabHome.Root, "ceilings", $"{Path.GetFileName(full)}-{Convert.ToHexStringLower(key)[..12]}-fit{fitPeople}.json");
    }

    /// <summary>The stored ceiling of <paramref name="setDir"/>, or null where none was worked out (or the file is unreadable).</summary>
    public static CeilingResult? Read(string? setDir, int fitPeople = Ceiling.DefaultFitPeople)
    {
        if (setDir is null || !Directory.Exists(setDir) || FileFor(setDir, fitPeople) is not { } file || !File.Exists(file)) return null;
        try { return System.Text.Json.JsonSerializer.Deserialize<CeilingResult>(File.ReadAllText(file)); }
        catch (Exception e) when (e is System.Text.Json.JsonException or IOException or UnauthorizedAccessException) { return null; }
    }

    public static void Write(string setDir, int fitPeople, CeilingResult result)
    {
        if (FileFor(setDir, fitPeople) is not { } file) return;
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        AtomicFile.WriteText(file, w => w.Write(System.Text.Json.JsonSerializer.Serialize(result, Indented)));
    }
}
