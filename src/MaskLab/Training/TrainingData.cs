using System.Text.Json;
using MaskLab.Data;

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
    /// Finds the data (the embedded default when the config names none), reads it, splits it by person and
    /// decodes every photo once into the cache. A bad photo fails here, before any training, unless
    /// skip_bad is set.
    /// </summary>
    public static TrainingData Load(TrainConfig c, ITrainingObserver observer, CancellationToken ct)
    {
        var dataDir = c.Data ?? DefaultData.Ensure(c, observer, ct);
        var location = DataLocator.Locate(dataDir);
        observer.Stage($"reading {dataDir}");
        var set = DataLocator.ReadLabeled(dataDir);

        var size = c.Size;
        var cache = new ImageCache(size.Width, size.Height);
        var paths = set.Samples.Select(s => s.Path).ToArray();
        var bad = cache.Preload(paths, new SyncProgress<int>(done => observer.Progress("decoding photos", done, paths.Length)), ct);
        if (bad.Count > 0)
        {
            if (!c.SkipBad) throw new BadImagesException(bad, "fix or remove them, or pass --skip-bad to train without them");
            var badPaths = bad.Select(b => b.Path).ToHashSet();
            set = set with { Samples = set.Samples.Where(s => !badPaths.Contains(s.Path)).ToArray() };
            observer.Stage($"skipping {bad.Count} unreadable photo(s)");
        }

        var (train, val) = Split(set.Samples, c);
        return new TrainingData
        {
            Set = set, TrainIndices = train, ValIndices = val, Cache = cache, DataDir = dataDir,
            EvalDir = location.EvalDir, SkippedBad = bad.Count,
        };
    }

    /// <summary>The same decoded photos split for another config (a sweep's seed changes the split, not the photos).</summary>
    public TrainingData Resplit(TrainConfig c)
    {
        var (train, val) = Split(Set.Samples, c);
        return new TrainingData
        {
            Set = Set, TrainIndices = train, ValIndices = val, Cache = Cache, DataDir = DataDir,
            EvalDir = EvalDir, SkippedBad = SkippedBad,
        };
    }

    static (int[] Train, int[] Val) Split(IReadOnlyList<Sample> samples, TrainConfig c)
    {
        if (c.Folds > 1)
        {
            int fold = Math.Max(c.Fold, 0);
            return PersonSplit.Fold(PersonSplit.KFold(samples, c.Folds, c.Seed), fold);
        }
        return c.Split == "image" ? PersonSplit.ImageLevel(samples, c.ValRatio, c.Seed) : PersonSplit.Holdout(samples, c.ValRatio, c.Seed);
    }

    /// <summary>Records who is in validation, so a reader can check that no person leaks across.</summary>
    public void WriteSplit(string file)
    {
        var valGroups = ValIndices.Select(i => Set.Samples[i].Group).Distinct().Order(StringComparer.Ordinal).ToArray();
        RunDirectory.WriteJsonAtomic(file, new
        {
            train_images = TrainIndices.Length,
            val_images = ValIndices.Length,
            val_groups = valGroups,
        });
    }
}
