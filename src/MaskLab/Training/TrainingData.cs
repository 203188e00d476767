using System.Text.Json.Nodes;
using MaskLab.Data.Faces;
using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Evaluation;
using MaskLab.Runs;
using MaskLab.Synthetic;

namespace MaskLab.Training;

/// <summary>The labelled set of a run, its person-level split and the decoded image cache.</summary>
internal sealed class TrainingData
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

    /// <summary>The cache as the eval prediction takes it, so the eval photos decoded (and cut) here are not decoded again.</summary>
    public ImageCaches Caches => new ImageCaches(FaceBoxFolder)
        .With(new ImageSize(Cache.Width, Cache.Height), FaceCrop?.Spec ?? FaceCropSpec.None, Cache, Faces);

    /// <summary>The face boxes <see cref="Cache"/> cuts its photos with; null when they are read whole.</summary>
    public FaceCropSource? Faces { get; init; }
    public string? FaceBoxFolder { get; init; }

    /// <summary>Eval photos with predicted labels, trained on in every split and never validated on (pseudo_labels).</summary>
    public IReadOnlyList<Sample> Pseudo { get; init; } = [];

    /// <summary>How the photos were cut around faces; null when they are read whole.</summary>
    public FaceCropRecord? FaceCrop { get; init; }

    /// <summary>Whether the photos are cut around faces, and why (face_crop auto decided by the data).</summary>
    public ResolvedFaceCrop? FaceCropChoice { get; init; }

    /// <summary>The label corrections applied when the set was read; null when none were asked for.</summary>
    public LabelFixRecord? Fixes { get; init; }

    /// <summary>Where the pseudo labels came from and how good they are; null without pseudo_labels.</summary>
    public PseudoLabelRecord? PseudoLabelling { get; init; }

    /// <summary>What the training loader draws from: the labelled set, then the pseudo-labelled photos.</summary>
    public IReadOnlyList<Sample> LoaderSamples => Pseudo.Count == 0 ? Set.Samples : [.. Set.Samples, .. Pseudo];

    /// <summary>Positions into <see cref="LoaderSamples"/> trained on: the split's training part and every pseudo label.</summary>
    public int[] LoaderTrainIndices => Pseudo.Count == 0 ? TrainIndices
        : [.. TrainIndices, .. Enumerable.Range(Set.Samples.Count, Pseudo.Count)];

    /// <summary>
    /// Loads <paramref name="data"/> (default: <paramref name="config"/>'s) for a run of <paramref name="config"/>,
    /// refusing before any photo is decoded when this machine's memory could not hold them (<see cref="MemoryEstimate"/>).
    /// </summary>
    public static TrainingData LoadChecked(RunConfig config, ITrainingObserver observer, CancellationToken ct, DataSpec? data = null) =>
        Load(data ?? config.DataSection, observer, ct, (labelled, eval) => MemoryEstimate.Check(config, labelled, eval, observer));

    /// <summary>
    /// Finds the data (the embedded default when the options name none), reads it, applies label fixes, adds pseudo
    /// labels, finds faces where the photos are cropped, splits the labelled photos by person and decodes every photo
    /// once into the cache: the labelled ones and, where the data has an eval set, the eval ones (its info.csv and photos
    /// are checked here, not after training). A bad photo fails here, before any training, unless skip_bad is set (eval
    /// photos are never skipped: a submission needs every one).
    /// </summary>
    /// <param name="beforeDecode">Called with the number of labelled and eval photos once they are listed and before
    /// any is decoded (the memory check); it throws to stop.</param>
    public static TrainingData Load(DataSpec o, ITrainingObserver observer, CancellationToken ct, Action<int, int>? beforeDecode = null)
    {
        // Every write in here (the synthetic set, the face boxes) names its own path; what is left is reading the data.
        try { return LoadData(o, observer, ct, beforeDecode); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MaskLabInputException($"cannot read the data{(o.Dir is { } d ? $" in '{d}'" : "")}: {e.Message}");
        }
    }

    static TrainingData LoadData(DataSpec o, ITrainingObserver observer, CancellationToken ct, Action<int, int>? beforeDecode)
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

        LabelFixRecord? fixes = null;
        if (o.LabelFixes is { } fixSource)
        {
            var result = Data.Layout.LabelFixes.Apply(set, Data.Layout.LabelFixes.Load(fixSource));
            set = result.Set;
            fixes = new LabelFixRecord(fixSource, result.Applied, result.Skipped);
            foreach (var a in result.Applied)
                observer.Stage($"label fix: person {a.Fix.Person} {a.Fix.Field} {a.Old} -> {a.New} ({a.Photos} photo{(a.Photos == 1 ? "" : "s")}; {a.Fix.Source})");
            observer.Stage($"label fixes from {fixSource}: {result.Applied.Count} applied, {result.Skipped.Count} skipped (not in the data or already right)");
        }

        IReadOnlyList<Sample> pseudo = [];
        PseudoLabelRecord? pseudoRecord = null;
        if (o.Pseudo is { } pseudoSpec)
        {
            (pseudo, pseudoRecord) = PseudoLabels.Select(pseudoSpec, location.EvalDir, set.ClassCount, observer, ct);
            observer.Stage(pseudoRecord.Describe());
        }

        var paths = set.Samples.Select(s => s.Path).Concat(pseudo.Select(s => s.Path)).ToArray();
        var choice = MaskLab.Data.Faces.FaceCropChoice.Resolve(o.FaceCrop.Mode, location.Kind == DataKind.Competition, set.Samples.Select(s => s.Path).ToArray(),
            sample => FindFaces(sample, o.FaceBoxFolder, ct));
        if (o.FaceCrop.Mode == FaceCropMode.Auto) observer.Stage(choice.Describe());
        var cropSpec = choice.Crops ? o.FaceCrop with { Mode = FaceCropMode.Detect } : FaceCropSpec.None;
        FaceCropSource? faces = null;
        if (cropSpec.Active)
        {
            faces = new FaceCropSource(cropSpec.Options, o.FaceBoxFolder);
            observer.Stage($"finding faces ({faces.DetectorId}; boxes kept in {faces.BoxFile})");
            string[] all = [.. paths, .. evalImages?.Select(e => e.Path) ?? []];
            faces.Cover(all, new SyncProgress<int>(done => observer.Progress("finding faces", done, all.Length)), ct);
            if (faces.LastReport?.CacheDamage is { } damage) observer.Warning(damage);
        }
        var cache = new ImageCache(o.Size.Width, o.Size.Height, crop: faces?.Cropper);
        var bad = cache.Preload(paths, new SyncProgress<int>(done => observer.Progress("decoding photos", done, paths.Length)), ct);
        if (bad.Count > 0)
        {
            if (!o.SkipBad) throw new BadImagesException(bad, "fix or remove them, or pass --skip-bad to train without them");
            var badPaths = bad.Select(b => b.Path).ToHashSet();
            set = set with { Samples = set.Samples.Where(s => !badPaths.Contains(s.Path)).ToArray() };
            pseudo = pseudo.Where(s => !badPaths.Contains(s.Path)).ToArray();
            observer.Stage($"skipping {bad.Count} unreadable photo(s)");
        }
        // Counted before the eval photos are decoded: the record describes the photos trained and validated on.
        FaceCropRecord? crop = null;
        if (faces is not null)
        {
            crop = FaceCropRecord.Of(cropSpec, faces);
            observer.Stage(crop.Describe());
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
            EvalDir = location.EvalDir, EvalImages = evalImages, SkippedBad = bad.Count, Pseudo = pseudo, FaceCrop = crop, Fixes = fixes,
            PseudoLabelling = pseudoRecord, Faces = faces, FaceBoxFolder = o.FaceBoxFolder, FaceCropChoice = choice,
        };
    }

    /// <summary>The faces of a sample of photos for face_crop auto, through the shared box cache (kept for a crop that follows).</summary>
    static IReadOnlyDictionary<string, FaceBox?> FindFaces(IReadOnlyList<string> photos, string? boxFolder, CancellationToken ct)
    {
        using var detector = new BlazeFaceDetector();
        return FaceBoxStore.Ensure(FaceBoxStore.FileFor(boxFolder ?? FaceCropSpec.DefaultBoxFolder, detector.Id), photos, detector, cancellationToken: ct).ByPath;
    }

    /// <summary>The same decoded photos split for other options (a sweep's seed changes the split, not the photos).</summary>
    public TrainingData Resplit(DataSpec o) => WithSplit(Split(Set.Samples, o));

    /// <summary>The same decoded photos with the given train / validation indices (a fold of a k-fold run).</summary>
    public TrainingData WithSplit((int[] Train, int[] Val) split) => new()
    {
        Set = Set, TrainIndices = split.Train, ValIndices = split.Val, Cache = Cache, DataDir = DataDir,
        EvalDir = EvalDir, EvalImages = EvalImages, SkippedBad = SkippedBad, Pseudo = Pseudo, FaceCrop = FaceCrop, Fixes = Fixes,
        PseudoLabelling = PseudoLabelling, Faces = Faces, FaceBoxFolder = FaceBoxFolder, FaceCropChoice = FaceCropChoice,
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

    /// <summary>Writes label_fixes.csv (every fix applied or skipped) into the run, where fixes were asked for.</summary>
    public void WriteLabelFixes(RunDirectory run) => Fixes?.Write(run.LabelFixesFile);

    /// <summary>What metadata.json records about how the photos and labels were prepared (face crop, label fixes, pseudo labels).</summary>
    public JsonObject Provenance()
    {
        var o = new JsonObject();
        if (FaceCrop is { } f) o["face_crop"] = f.ToJson();
        if (FaceCropChoice is { } c)
            o["face_crop_choice"] = new JsonObject { ["resolved"] = c.Crops ? "detect" : "none", ["reason"] = c.Reason };
        if (Fixes is { } l) o["label_fixes"] = l.ToJson();
        if (PseudoLabelling is { } p) o["pseudo_labels"] = p.ToJson();
        return o;
    }
}
