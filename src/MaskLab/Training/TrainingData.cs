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
    public int SkippedBad { get; init; }

    /// <summary>
    /// Finds the data (the embedded default when the options name none), reads it, splits it by person and
    /// decodes every photo once into the cache. A bad photo fails here, before any training, unless
    /// skip_bad is set.
    /// </summary>
    public static TrainingData Load(DataSpec o, ITrainingObserver observer, CancellationToken ct)
    {
        var dataDir = o.Dir ?? DefaultData.Ensure(o.SynthPeople, o.SynthEvalPeople, observer.Stage,
            (done, total) => observer.Progress("synthesising photos", done, total), ct);
        var location = DataLocator.Locate(dataDir);
        observer.Stage($"reading {dataDir}");
        var set = DataLocator.ReadLabeled(dataDir);

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

        var (train, val) = Split(set.Samples, o);
        return new TrainingData
        {
            Set = set, TrainIndices = train, ValIndices = val, Cache = cache, DataDir = dataDir,
            EvalDir = location.EvalDir, SkippedBad = bad.Count,
        };
    }

    /// <summary>The same decoded photos split for other options (a sweep's seed changes the split, not the photos).</summary>
    public TrainingData Resplit(DataSpec o) => WithSplit(Split(Set.Samples, o));

    /// <summary>The same decoded photos with the given train / validation indices (a fold of a k-fold run).</summary>
    public TrainingData WithSplit((int[] Train, int[] Val) split) => new()
    {
        Set = Set, TrainIndices = split.Train, ValIndices = split.Val, Cache = Cache, DataDir = DataDir,
        EvalDir = EvalDir, SkippedBad = SkippedBad,
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
