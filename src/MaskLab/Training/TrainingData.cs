using MaskLab.Evaluation;
using MaskLab.Data;
using MaskLab.Runs;
using MaskLab.Synthetic;

namespace MaskLab.Training;

/// <summary>The labelled set of a run, its person-level split and the decoded image cache.</summary>
public sealed class TrainingData
{
    public required LabeledSet Set { get; init; }
    public required int[] TrainIndices { get; init; }
    public required int[] ValIndices { get; init; }
    public required ImageCache Cache { get; init; }
    public required string DataDir { get; init; }
    public string? EvalDir { get; init; }
    /// <summary>The eval set's photos in info.csv order (already decoded into <see cref="Cache"/>); null without an eval set.</summary>
    public IReadOnlyList<EvalImage>? EvalImages { get; init; }
    public int SkippedBad { get; init; }

    /// <summary>The cache as the eval prediction takes it, so the eval photos decoded here are not decoded again.</summary>
    public ImageCaches Caches => new(Cache);

    /// <summary>
    /// Finds the data (the embedded default when the options name none), reads it, splits it by person and
    /// decodes every photo once into the cache: the labelled ones and, where the data has an eval set, the eval ones
    /// (its info.csv and photos are checked here, not after training). A bad photo fails here, before any training,
    /// unless skip_bad is set (eval photos are never skipped: a submission needs every one).
    /// </summary>
    /// <param name="beforeDecode">Called with the number of labelled and eval photos once they are listed and before
    /// any is decoded (the memory check); it throws to stop.</param>
    public static TrainingData Load(DataSpec o, ITrainingObserver observer, CancellationToken ct, Action<int, int>? beforeDecode = null)
    {
        var dataDir = o.Dir ?? DefaultData.Ensure(o.SynthPeople, o.SynthEvalPeople, observer.Stage,
            (done, total) => observer.Progress("synthesising photos", done, total), ct);
        var location = DataLocator.Locate(dataDir);
        observer.Stage($"reading {dataDir}");
        var set = DataLocator.ReadLabeled(dataDir);
        foreach (var warning in set.Warnings) observer.Warning(warning);
        var evalImages = location.EvalDir is { } evalDir ? CompetitionLayout.ReadEval(evalDir) : null;
        if (evalImages is not null) EvalSet.CheckAnswers(location.EvalDir!, evalImages);
        beforeDecode?.Invoke(set.Samples.Count, evalImages?.Count ?? 0);

        var cache = new ImageCache(o.Size.Width, o.Size.Height);
        var paths = set.Samples.Select(s => s.Path).ToArray();
        var bad = cache.Preload(paths, new SyncProgress<int>(done => observer.Progress("decoding photos", done, paths.Length)), ct);
        if (bad.Count > 0)
        {
            if (!o.SkipBad) throw new BadImagesException(bad, "fix or remove them, or pass --skip-bad to train without them");
            var badPaths = bad.Select(b => b.Path).ToHashSet();
            set = set with { Samples = set.Samples.Where(s => !badPaths.Contains(s.Path)).ToArray() };
            observer.Stage($"skipping {bad.Count} unreadable photo(s)");
        }
        if (evalImages is not null)
        {
            var evalPaths = evalImages.Select(e => e.Path).ToArray();
            cache.PreloadAll(evalPaths, new SyncProgress<int>(done => observer.Progress("decoding eval photos", done, evalPaths.Length)), ct,
                $"they are listed in {Path.Combine(location.EvalDir!, "info.csv")} and a submission needs every one: fix or replace them");
        }

        var (train, val) = Split(set.Samples, o);
        return new TrainingData
        {
            Set = set, TrainIndices = train, ValIndices = val, Cache = cache, DataDir = dataDir,
            EvalDir = location.EvalDir, EvalImages = evalImages, SkippedBad = bad.Count,
        };
    }

    /// <summary>The same decoded photos split for other options (a sweep's seed changes the split, not the photos).</summary>
    public TrainingData Resplit(DataSpec o) => WithSplit(Split(Set.Samples, o));

    /// <summary>The same decoded photos with the given train / validation indices (a fold of a k-fold run).</summary>
    public TrainingData WithSplit((int[] Train, int[] Val) split) => new()
    {
        Set = Set, TrainIndices = split.Train, ValIndices = split.Val, Cache = Cache, DataDir = DataDir,
        EvalDir = EvalDir, EvalImages = EvalImages, SkippedBad = SkippedBad,
    };

    static (int[] Train, int[] Val) Split(IReadOnlyList<Sample> samples, DataSpec o)
    {
        if (o.Folds > 1)
        {
            int fold = Math.Max(o.Fold, 0);
            return PersonSplit.Fold(PersonSplit.KFold(samples, o.Folds, o.Seed), fold);
        }
        return o.Split == SplitKind.Image ? PersonSplit.ImageLevel(samples, o.ValRatio, o.Seed) : PersonSplit.Holdout(samples, o.ValRatio, o.Seed);
    }

    /// <summary>Records who is in validation in the run's split.json, so a reader can check that no person leaks across.</summary>
    public void WriteSplit(RunDirectory run) =>
        run.WriteSplit(TrainIndices.Length, ValIndices.Length, ValIndices.Select(i => Set.Samples[i].Group));
}
