using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using MaskLab.Data.Faces;
using MaskLab.Data.Layout;
using MaskLab.Data.Loading;

namespace MaskLab.Tests;

/// <summary>A small synthetic set with train and eval photos large enough for the face detector to see faces.</summary>
public static class FaceCropSet
{
    public static readonly SynthOptions Options = new(People: 16, EvalPeople: 3, Width: 192, Height: 256, Seed: 21);

    static readonly Lazy<string> Folder = new(() =>
    {
        NativeSetup.Initialize();
        var dir = Path.Combine(Path.GetTempPath(), $"masklab-tests-facecrop-{Options.People}-{Options.EvalPeople}-{Options.Width}x{Options.Height}-{Options.Seed}");
        SyntheticGenerator.Generate(dir, Options);
        return dir;
    });

    public static string Root => Folder.Value;
}

/// <summary>Keeps what a trainer says, for tests that check the stage lines.</summary>
public sealed class RecordingObserver : ITrainingObserver
{
    public ConcurrentQueue<string> Stages { get; } = new();
    public ConcurrentQueue<(string Task, int Done, int Total)> Progresses { get; } = new();

    public void Stage(string message) => Stages.Enqueue(message);
    public void Progress(string task, int done, int total) => Progresses.Enqueue((task, done, total));
}

/// <summary>face_crop: detect wired through a run: the training cache, the records, and the same crop at eval and predict.</summary>
public sealed class FaceCropRunTests : IDisposable
{
    readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    static RunConfig Config(params string[] extra) => RunConfig.Load(null,
        new[] { $"data={FaceCropSet.Root}", "model=baseline", "image_size=24x32", "epochs=1", "batch_size=16", "warmup_epochs=0",
                "seed=1", "threads=2", "face_crop=detect", "face_margin=0.2" }.Concat(extra)).Validate();

    [Fact]
    public void CroppedRun_RecordsItsDetectorAndFallbacks_AndEvalReadsThePhotosTheSameWay()
    {
        var boxes = _dir.Combine("boxes");
        var config = Config();
        var spec = config.DataSection with { FaceBoxFolder = boxes };
        var observer = new RecordingObserver();
        var data = TrainingData.Load(spec, observer, CancellationToken.None);
        var photos = data.Set.Samples.Select(s => s.Path).ToArray();

        // The cache cuts with the run's margin; the record counts every photo once, faces and fallbacks apart.
        var cropper = Assert.IsType<FaceCropper>(data.Cache.Crop);
        Assert.Equal(0.2, cropper.Options.Margin);
        var record = data.FaceCrop!;
        Assert.Equal(photos.Length, record.Photos);
        Assert.Equal(record.Photos, record.Faces + record.Fallbacks);
        Assert.Equal("blazeface-front128-s0.5-iou0.3w", record.DetectorId);
        Assert.Equal("d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51", record.ModelSha256);
        // The fallbacks are the photos whose row in the shared box file has no box.
        var rows = FaceBoxFile.Read(record.BoxFile).ToDictionary(r => r.Path);
        Assert.StartsWith(boxes, record.BoxFile);
        Assert.Equal(photos.Count(p => rows[Path.GetFullPath(p)].Box is null), record.Fallbacks);
        Assert.True(record.Faces > photos.Length / 2, $"{record.Faces} faces of {photos.Length}");
        Assert.Contains(observer.Stages, s => s.StartsWith($"face crop: {record.Faces} of {record.Photos} photos cut around a face, {record.Fallbacks} centred fallback"));

        // A run with those photos writes the crop into summary.json and metadata.json, and crops the eval photos too.
        var run = new RunDirectory(_dir.Combine("run"));
        var outcome = new RunJob(config, run).Run(CancellationToken.None, data, new RunEnd(Report: false, EvalCaches: new ImageCaches(boxes)));
        var summary = JsonNode.Parse(File.ReadAllText(run.SummaryFile))!.AsObject();
        Assert.Equal(record.Photos, summary["face_crop_photos"]!.GetValue<int>());
        Assert.Equal(record.Fallbacks, summary["face_crop_fallbacks"]!.GetValue<int>());
        var evalPhotos = CompetitionLayout.ReadEval(Path.Combine(FaceCropSet.Root, "eval")).Select(i => Path.GetFullPath(i.Path)).ToArray();
        var evalRows = FaceBoxFile.Read(record.BoxFile).ToDictionary(r => r.Path);
        Assert.Equal(evalPhotos.Count(p => evalRows[p].Box is null), summary["eval_face_crop_fallbacks"]!.GetValue<int>());
        Assert.NotNull(outcome.Prediction?.FaceCrop);
        var meta = JsonNode.Parse(File.ReadAllText(run.MetadataFile))!["face_crop"]!;
        Assert.Equal(record.DetectorId, meta["detector"]!.GetValue<string>());
        Assert.Equal(record.ModelSha256, meta["model_sha256"]!.GetValue<string>());
        Assert.Equal(0.2, meta["margin"]!.GetValue<double>());

        // Loaded for eval or predict, the run reads its photos through the same crop: the same pixels and the same
        // probabilities as in training's validation, and other pixels than the whole photo gives.
        using var trained = TrainedRun.Load(run.Path);
        var val = data.ValIndices.Select(i => data.Set.Samples[i]).ToArray();
        var evalCache = trained.CacheIn(new ImageCaches(boxes), val.Select(s => s.Path).ToArray());
        Assert.Equal(data.Cache.Get(val[0].Path).ToArray(), evalCache.Get(val[0].Path).ToArray());
        Assert.NotEqual(new ImageCache(24, 32).Get(val[0].Path).ToArray(), evalCache.Get(val[0].Path).ToArray());
        Assert.Equal(trained.Probabilities(val, data.Cache, tta: false), trained.Probabilities(val, evalCache, tta: false));

        // A second load finds every box in the shared file: the detector sees no photo.
        var again = new RecordingObserver();
        var second = TrainingData.Load(spec, again, CancellationToken.None);
        Assert.DoesNotContain(again.Progresses, p => p.Task == "finding faces");
        Assert.Equal(record.Fallbacks, second.FaceCrop!.Fallbacks);
    }

    [Fact]
    public void Caches_AreKeptApartBySizeAndCrop()
    {
        var boxes = _dir.Combine("boxes");
        var photo = Directory.EnumerateFiles(Path.Combine(FaceCropSet.Root, "train", "images"), "normal.*", SearchOption.AllDirectories).First();
        var caches = new ImageCaches(boxes);
        var size = new ImageSize(24, 32);
        var detect = new FaceCropSpec(FaceCropMode.Detect, new FaceCropOptions(Margin: 0.3));
        var whole = caches.For(size);
        var cropped = caches.For(size, detect, [photo]);
        Assert.Null(whole.Crop);
        Assert.IsType<FaceCropper>(cropped.Crop);
        Assert.NotSame(whole, cropped);
        Assert.Same(cropped, caches.For(size, new FaceCropSpec(FaceCropMode.Detect, new FaceCropOptions(Margin: 0.3)), [photo]));
        Assert.NotSame(cropped, caches.For(size, new FaceCropSpec(FaceCropMode.Detect, new FaceCropOptions(Margin: 0.5)), [photo]));
        Assert.NotSame(cropped, caches.For(new ImageSize(32, 40), detect, [photo]));
        Assert.Same(whole, caches.For(size, FaceCropSpec.None, [photo]));
        Assert.NotEqual(whole.Get(photo).ToArray(), cropped.Get(photo).ToArray());
    }

    [Theory]
    [InlineData("face_crop=mtcnn", "face_crop 'mtcnn' is not one of none, detect, auto")]
    [InlineData("face_margin=9", "face margin 9 must be 0..5 (a fraction of the face box)")]
    public void BadFaceCropSettings_AreRefusedInOneLine(string setting, string message)
    {
        var e = Assert.Throws<MaskLabInputException>(() => RunConfig.Load(null, [setting]).Validate());
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void FaceCropKeys_ReachTheDataSection()
    {
        var section = Config().DataSection;
        Assert.Equal(new FaceCropSpec(FaceCropMode.Detect, new FaceCropOptions(Margin: 0.2)), section.FaceCrop);
        Assert.NotEqual(section.LoadKey, RunConfig.Load(null, [$"data={FaceCropSet.Root}", "image_size=24x32"]).DataSection.LoadKey);
        Assert.Equal(FaceCropSpec.None, RunConfig.Load(null, ["face_crop=none"]).DataSection.FaceCrop);
        Assert.Equal(FaceCropMode.Auto, new RunConfig().DataSection.FaceCrop.Mode);
    }

    // ---- face_crop: auto ----

    static IReadOnlyDictionary<string, FaceBox?> NoDetector(IReadOnlyList<string> photos) =>
        throw new InvalidOperationException("the detector was asked");

    [Fact]
    public void Auto_CropsTheCompetitionLayoutWithoutLookingAndKeepsWhatIsAskedFor()
    {
        var crop = FaceCropChoice.Resolve(FaceCropMode.Auto, competitionLayout: true, ["a.jpg"], NoDetector);
        Assert.True(crop.Crops);
        Assert.Contains("competition layout", crop.Reason);
        Assert.False(FaceCropChoice.Resolve(FaceCropMode.None, competitionLayout: true, ["a.jpg"], NoDetector).Crops);
        Assert.True(FaceCropChoice.Resolve(FaceCropMode.Detect, competitionLayout: false, ["a.jpg"], NoDetector).Crops);
    }

    [Fact]
    public void Auto_OnAnImageFolderCountsPlausibleFacesInAnEvenSample()
    {
        // 100 photos of 64x64; the detector "finds" a face in some: big boxes count, specks do not.
        var folder = _dir.Combine("folder");
        var photos = Enumerable.Range(0, 100).Select(i => Path.Combine(folder, "c", $"p{i:000}.png")).ToArray();
        foreach (var p in photos) { Directory.CreateDirectory(Path.GetDirectoryName(p)!); File.WriteAllBytes(p, Fixtures.PngBytes(64, 64)); }
        ResolvedFaceCrop With(Func<int, FaceBox?> box)
        {
            var asked = new List<string>();
            var result = FaceCropChoice.Resolve(FaceCropMode.Auto, competitionLayout: false, photos, sample =>
            {
                asked.AddRange(sample);
                return sample.ToDictionary(p => p, p => box(int.Parse(Path.GetFileNameWithoutExtension(p)[1..], System.Globalization.CultureInfo.InvariantCulture)));
            });
            Assert.Equal(FaceCropChoice.SamplePhotos, asked.Count);
            Assert.Equal(asked.Count, asked.Distinct().Count());
            return result;
        }
        var faces = With(_ => new FaceBox(10, 10, 30, 36));
        Assert.True(faces.Crops);
        Assert.Contains("40 of 40", faces.Reason);
        var specks = With(_ => new FaceBox(10, 10, 4, 4));
        Assert.False(specks.Crops);
        Assert.Contains("only 0 of 40", specks.Reason);
        // A face in a third of the photos (what BlazeFace "found" in Fashion-MNIST's clothes) is not a set of portraits.
        var some = With(i => i % 3 == 0 ? new FaceBox(10, 10, 30, 36) : null);
        Assert.False(some.Crops);
    }

    [Fact]
    public void Auto_ReadsAnImageFolderOfPhotosWithoutFacesWholeAndEvalRepeatsIt()
    {
        // Clothes-like photos: coloured stripes and blocks, no face anywhere.
        var folder = _dir.Combine("things");
        var random = new Random(5);
        foreach (var cls in new[] { "shirt", "shoe", "bag" })
            for (int i = 0; i < 12; i++)
            {
                using var bitmap = new SkiaSharp.SKBitmap(96, 96);
                using (var canvas = new SkiaSharp.SKCanvas(bitmap))
                {
                    canvas.Clear(new SkiaSharp.SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
                    using var paint = new SkiaSharp.SKPaint { Color = new SkiaSharp.SKColor((byte)random.Next(256), 40, 90) };
                    for (int k = 0; k < 5; k++) canvas.DrawRect(random.Next(80), random.Next(80), 10 + random.Next(40), 6 + random.Next(20), paint);
                }
                using var image = SkiaSharp.SKImage.FromBitmap(bitmap);
                var file = Path.Combine(folder, cls, $"{i:00}.png");
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                File.WriteAllBytes(file, image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 90).ToArray());
            }
        var run = new RunDirectory(_dir.Combine("run"));
        var config = RunConfig.Load(null, [$"data={folder}", "model=baseline", "image_size=24x24", "epochs=1", "batch_size=8",
            "warmup_epochs=0", "seed=1", "threads=2", "pretrained=none"]).Validate();
        Assert.Equal(FaceCropMode.Auto, config.FaceCrop);
        var observer = new RecordingObserver();
        new RunJob(config, run, observer).Run(CancellationToken.None, end: new RunEnd(Predict: false, Report: false));
        Assert.Contains(observer.Stages, s => s.StartsWith("face crop none (auto: only", StringComparison.Ordinal));
        Assert.DoesNotContain(observer.Stages, s => s.StartsWith("finding faces", StringComparison.Ordinal));
        var summary = run.ReadSummary()!.Training;
        Assert.Equal("none", summary.FaceCrop);
        Assert.Null(summary.FaceCropPhotos);
        var choice = JsonNode.Parse(File.ReadAllText(run.MetadataFile))!["face_crop_choice"]!;
        Assert.Equal("none", choice["resolved"]!.GetValue<string>());
        Assert.Contains("sampled photos show a plausible face", choice["reason"]!.GetValue<string>());
        Assert.Contains("auto", File.ReadAllText(run.ConfigFile).Split('\n').Single(l => l.StartsWith("face_crop:", StringComparison.Ordinal)));
        // Eval and predict read any photos as the run was trained to: whole.
        using var trained = TrainedRun.Load(run.Path);
        Assert.Equal(FaceCropMode.None, trained.Config.FaceCrop);
    }

    [Fact]
    public void Auto_CropsAnImageFolderOfPortraits()
    {
        // The synthetic portraits, as an image folder by mask state: photos of people, whatever the layout.
        var folder = _dir.Combine("portraits");
        foreach (var person in Directory.GetDirectories(Path.Combine(FaceCropSet.Root, "train", "images")))
            foreach (var photo in Directory.GetFiles(person))
            {
                var cls = Path.GetFileNameWithoutExtension(photo).StartsWith("mask", StringComparison.Ordinal) ? "wear" : Path.GetFileNameWithoutExtension(photo);
                var target = Path.Combine(folder, cls, $"{Path.GetFileName(person)}-{Path.GetFileName(photo)}");
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(photo, target);
            }
        var spec = Config("face_crop=auto").DataSection with { Dir = folder, FaceBoxFolder = _dir.Combine("boxes") };
        var data = TrainingData.Load(spec, new RecordingObserver(), CancellationToken.None);
        Assert.True(data.FaceCropChoice!.Crops, data.FaceCropChoice.Reason);
        Assert.NotNull(data.FaceCrop);
        Assert.IsType<FaceCropper>(data.Cache.Crop);
    }
}
