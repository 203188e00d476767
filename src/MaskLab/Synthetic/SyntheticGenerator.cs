using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MaskLab.Data.Layout;
using SkiaSharp;

namespace MaskLab.Synthetic;

/// <summary>
/// Writes a look-alike of the competition data in its exact layout:
/// <c>train/train.csv</c>, <c>train/images/&lt;id&gt;_&lt;gender&gt;_&lt;race&gt;_&lt;age&gt;/</c> with seven photos,
/// <c>eval/info.csv</c>, <c>eval/images/&lt;sha1&gt;.jpg</c>, plus what the real set hides: <c>eval/answers.csv</c>
/// (the eval truth), <c>train_truth.csv</c> (every train photo's given and true class, so the planted label
/// noise is known), <c>face_boxes.csv</c> (where each photo's face is) and <c>latent_truth.csv</c> (the latent cues
/// each person was drawn from). The same options always give
/// byte-identical files.
/// </summary>
public static class SyntheticGenerator
{
    public const string MarkerFile = ".synth.json";
    public const string TruthFile = "train_truth.csv";

    /// <summary>Bumped whenever the drawing or layout changes, so an old set is not mistaken for a current one.</summary>
    public const int FormatVersion = 1;

    // Stream purposes for per-person and per-photo randomness (the population uses 1..9).
    const int TrainLook = 10, EvalLook = 11, TrainShot = 12, EvalShot = 13, Junk = 14, Preview = 15, StrangerLook = 16;

    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.Strict,
    };

    sealed record Marker(string Generator, int Version, SynthOptions Options, int TrainPhotos, int EvalPhotos, int NoisyPhotos);

    /// <summary>True when <paramref name="outDir"/> holds a finished set made with exactly these options.</summary>
    public static bool IsComplete(string outDir, SynthOptions o) => ReadMarker(outDir) is { } m && Matches(m, o);

    static bool Matches(Marker m, SynthOptions o) => m.Generator == "masklab-synth" && m.Version == FormatVersion && m.Options == o;

    static Marker? ReadMarker(string outDir)
    {
        var path = Path.Combine(outDir, MarkerFile);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<Marker>(File.ReadAllText(path), Json); }
        catch (JsonException) { return null; }
    }

    /// <summary>
    /// Generates the set into <paramref name="outDir"/>. Work happens in a hidden sibling folder that is renamed
    /// into place at the end, so an interrupted run never leaves a set that looks complete. An existing complete
    /// set with the same options is kept as is; any other existing content is refused. Processes generating the same
    /// folder at once take turns (a lock file beside it, <c>.&lt;name&gt;.lock</c>): the later ones wait and reuse the set.
    /// A folder that cannot be written (a full disk, no permission) is a <see cref="MaskLabInputException"/> naming it.
    /// </summary>
    /// <param name="photosDone">Receives the running count of photos written.</param>
    /// <param name="replaceOther">A cache's folder (the default set under MASKLAB_HOME): whatever it holds that is not this
    /// set, complete (a damaged marker, a set cut short, another version), is deleted and drawn again instead of refused.</param>
    public static SynthReport Generate(string outDir, SynthOptions o, IProgress<int>? photosDone = null, CancellationToken ct = default,
        bool replaceOther = false)
    {
        ArgumentNullException.ThrowIfNull(o);
        o.Validate();
        if (string.IsNullOrWhiteSpace(outDir)) throw new MaskLabInputException("the output folder is empty");
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outDir));
        var clock = Stopwatch.StartNew();
        if (ReadMarker(full) is { } done && Matches(done, o)) return Reused(full, done, clock.Elapsed);
        var parent = Path.GetDirectoryName(full) ?? throw new MaskLabInputException($"'{outDir}' has no parent folder");
        try
        {
            Directory.CreateDirectory(parent);
            using var turn = TakeTurn(parent, Path.GetFileName(full), ct);
            return GenerateLocked(outDir, full, parent, o, photosDone, clock, ct, replaceOther);
        }
        catch (Exception e) when (Unwrap(e) is (IOException or UnauthorizedAccessException) and var cause)
        {
            throw new MaskLabInputException($"cannot write the synthetic set '{full}': {cause.Message}");
        }
    }

    /// <summary>The first file-system error inside a parallel loop's <see cref="AggregateException"/>.</summary>
    static Exception Unwrap(Exception e) =>
        e is AggregateException a && a.Flatten().InnerExceptions is { Count: > 0 } inner
            ? inner.FirstOrDefault(x => x is IOException or UnauthorizedAccessException) ?? inner[0]
            : e;

    /// <summary>
    /// An exclusive lock on <c>.&lt;name&gt;.lock</c> beside the set (the kernel's: freed when its holder dies), waited
    /// for while another process holds it. The holder deletes the file when it lets go, so nothing is left beside the
    /// set; a waiter that locked the file just deleted tries again on the new one.
    /// </summary>
    static Turn TakeTurn(string parent, string name, CancellationToken ct)
    {
        var lockFile = Path.Combine(parent, $".{name}.lock");
        while (true)
        {
            FileStream stream;
            try { stream = new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException e) when (e.GetType() == typeof(IOException) && (e.HResult is 11 or 35 || (e.HResult & 0xFFFF) is 32 or 33))
            {
                // Held by another process generating the same set: wait for it.
                ct.WaitHandle.WaitOne(200);
                ct.ThrowIfCancellationRequested();
                continue;
            }
            if (File.Exists(lockFile)) return new Turn(lockFile, stream);
            stream.Dispose();
        }
    }

    sealed class Turn(string file, FileStream stream) : IDisposable
    {
        public void Dispose()
        {
            try { File.Delete(file); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            stream.Dispose();
        }
    }

    static SynthReport GenerateLocked(string outDir, string full, string parent, SynthOptions o, IProgress<int>? photosDone, Stopwatch clock,
        CancellationToken ct, bool replaceOther)
    {
        if (File.Exists(full)) throw new MaskLabInputException($"'{outDir}' is a file; the synthetic set needs a folder");
        if (replaceOther && Directory.Exists(full) && !(ReadMarker(full) is { } own && Matches(own, o))) Directory.Delete(full, recursive: true);
        if (Directory.Exists(full))
        {
            if (ReadMarker(full) is { } m)
            {
                if (Matches(m, o)) return Reused(full, m, clock.Elapsed);
                if (m.Version != FormatVersion)
                    throw new MaskLabInputException(
                        $"'{outDir}' holds a synthetic set from generator version {m.Version} (now {FormatVersion}); delete it to draw it again");
                throw new MaskLabInputException(
                    $"'{outDir}' already holds a synthetic set made with other options ({Describe(m.Options)}); choose another folder or delete it");
            }
            if (Directory.EnumerateFileSystemEntries(full).Any())
                throw new MaskLabInputException($"'{outDir}' exists and is not empty; choose a new or empty folder");
        }

        var name = Path.GetFileName(full);
        RemoveStalePartials(parent, name);
        var temp = Path.Combine(parent, $".{name}.partial-{Environment.ProcessId}");
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);

        try
        {
            var (trainPhotos, evalPhotos, noisy) = WriteSet(temp, o, photosDone, ct);
            var marker = new Marker("masklab-synth", FormatVersion, o, trainPhotos, evalPhotos, noisy);
            File.WriteAllText(Path.Combine(temp, MarkerFile), JsonSerializer.Serialize(marker, Json));
            ct.ThrowIfCancellationRequested();
            try
            {
                if (Directory.Exists(full)) Directory.Delete(full); // empty, checked above
                Directory.Move(temp, full);
            }
            catch (IOException) when (IsComplete(full, o))
            {
                // Another run finished the same set first; theirs is as good as ours.
                Directory.Delete(temp, recursive: true);
            }
            return new SynthReport(full, o.People, o.EvalPeople, trainPhotos, evalPhotos, noisy, clock.Elapsed, false);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    static SynthReport Reused(string full, Marker m, TimeSpan elapsed) =>
        new(full, m.Options.People, m.Options.EvalPeople, m.TrainPhotos, m.EvalPhotos, m.NoisyPhotos, elapsed, true);

    static string Describe(SynthOptions o) =>
        string.Create(CultureInfo.InvariantCulture, $"people {o.People}, eval people {o.EvalPeople}, size {o.Width}x{o.Height}, seed {o.Seed}, ") +
        string.Create(CultureInfo.InvariantCulture, $"label noise {o.LabelNoise} ({o.NoiseKind.ToString().ToLowerInvariant()}), JPEG quality {o.JpegQuality}") +
        (o.AppleDoubleJunk ? "" : ", no junk");

    /// <summary>Removes partial folders left by killed runs whose process is gone.</summary>
    static void RemoveStalePartials(string parent, string name)
    {
        foreach (var dir in Directory.EnumerateDirectories(parent, $".{name}.partial-*"))
        {
            var tail = Path.GetFileName(dir)[($".{name}.partial-".Length)..];
            if (!int.TryParse(tail, out var pid) || pid == Environment.ProcessId || IsRunning(pid)) continue;
            TryDelete(dir);
        }
    }

    static bool IsRunning(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    static void TryDelete(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    static (int Train, int Eval, int Noisy) WriteSet(string root, SynthOptions o, IProgress<int>? progress, CancellationToken ct)
    {
        var train = Population.Train(o);
        var eval = Population.Eval(o);
        var trainImages = Path.Combine(root, "train", "images");
        var evalImages = Path.Combine(root, "eval", "images");
        Directory.CreateDirectory(trainImages);
        Directory.CreateDirectory(evalImages);

        var done = 0;
        var total = train.Length + eval.Length;
        Parallel.For(0, total,
            new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = Environment.ProcessorCount },
            () => new PortraitPainter(o.Width, o.Height),
            (i, _, painter) =>
            {
                var person = i < train.Length ? train[i] : eval[i - train.Length];
                var dir = person.IsEval ? evalImages : Path.Combine(trainImages, person.Folder);
                if (!person.IsEval) Directory.CreateDirectory(dir);
                DrawPerson(painter, person, o, dir);
                progress?.Report(Interlocked.Add(ref done, Population.PhotosPerPerson));
                return painter;
            },
            painter => painter.Dispose());
        ct.ThrowIfCancellationRequested();

        var noisy = WriteTrainCsvs(root, train);
        WriteEvalCsvs(root, o, eval);
        SyntheticFaceBoxes.Write(root, o, train, eval);
        LatentTruth.Write(root, o, train, eval);
        return (train.Length * Population.PhotosPerPerson, eval.Length * Population.PhotosPerPerson, noisy);
    }

    /// <summary>A person's look: the same in all seven photos.</summary>
    internal static Look LookOf(SynthOptions o, PlannedPerson person) =>
        Look.Create(SynthRandom.For(o.Seed, person.IsEval ? EvalLook : TrainLook, person.Index), person.Gender, person.Age);

    /// <summary>The look photo <paramref name="k"/> shows: the person's, or a stranger's of its own stream (the uniform noise).</summary>
    internal static Look LookOf(SynthOptions o, PlannedPerson person, Look own, int k) => person.StrangerIn(k) is { } s
        ? Look.Create(SynthRandom.For(o.Seed, StrangerLook, person.Index * 8L + k), s.Gender, s.Age)
        : own;

    /// <summary>Photo <paramref name="k"/>'s mask, pose and light; its own stream, so it needs no other photo drawn.</summary>
    internal static Shot ShotOf(SynthOptions o, PlannedPerson person, Look look, int k) =>
        Shot.Create(SynthRandom.For(o.Seed, person.IsEval ? EvalShot : TrainShot, person.Index * 8L + k), look, person.ShownMask(k), k);

    /// <summary>The options a finished set in <paramref name="outDir"/> was made with; null when it holds none.</summary>
    internal static SynthOptions? OptionsOf(string outDir) => ReadMarker(outDir) is { Generator: "masklab-synth" } m ? m.Options : null;

    static void DrawPerson(PortraitPainter painter, PlannedPerson person, SynthOptions o, string dir)
    {
        var own = LookOf(o, person);
        for (var k = 0; k < Population.PhotosPerPerson; k++)
        {
            var look = LookOf(o, person, own, k);
            painter.Paint(look, ShotOf(o, person, look, k));
            var name = person.FileNames[k];
            using (var file = new FileStream(Path.Combine(dir, name), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                painter.Encode(file, Path.GetExtension(name).TrimStart('.'), o.JpegQuality);
            if ((person.JunkMask >> k & 1) != 0)
                File.WriteAllBytes(Path.Combine(dir, "._" + name), AppleDoubleJunk(SynthRandom.For(o.Seed, Junk, person.Index * 8L + k)));
        }
    }

    /// <summary>What macOS archives leave beside a file: an AppleDouble header and a little garbage.</summary>
    static byte[] AppleDoubleJunk(SynthRandom r)
    {
        var header = new byte[] { 0x00, 0x05, 0x16, 0x07, 0x00, 0x02, 0x00, 0x00 };
        var tail = new byte[r.Between(4, 24)];
        for (var i = 0; i < tail.Length; i++) tail[i] = (byte)r.Next(256);
        return [.. header, .. "Mac OS X        "u8, .. tail];
    }

    static int WriteTrainCsvs(string root, PlannedPerson[] train)
    {
        CompetitionLayout.WriteTrainCsv(Path.Combine(root, "train", "train.csv"), train.Select(p =>
            new TrainCsvRow(p.Id, TaskClasses.GenderWord(p.GivenGender), Population.Race, p.GivenAge, p.Folder)));
        var truth = new List<string[]>();
        var noisy = 0;
        foreach (var p in train)
        {
            for (var k = 0; k < Population.PhotosPerPerson; k++)
            {
                int given = p.GivenClass(k), truthClass = p.TrueClass(k);
                if (given != truthClass) noisy++;
                truth.Add([$"train/images/{p.Folder}/{p.FileNames[k]}", Text(given), Text(truthClass), Text(p.Shown(k).Age),
                    given == truthClass ? "" : NoiseWord(p.Noise)]);
            }
        }
        CsvText.WriteFile(Path.Combine(root, TruthFile), ["path", "given_class", "true_class", "true_age", "noise"], truth);
        return noisy;
    }

    static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    static string NoiseWord(NoiseKind k) => k switch
    {
        NoiseKind.SwappedIncorrectNormal => "swapped_incorrect_normal",
        NoiseKind.WrongGender => "wrong_gender",
        NoiseKind.WrongAgeBand => "wrong_age_band",
        NoiseKind.Stranger => "uniform",
        _ => "",
    };

    static void WriteEvalCsvs(string root, SynthOptions o, PlannedPerson[] eval)
    {
        var rows = Population.EvalRows(o, eval.Length).Select(r => (Id: eval[r.Person].FileNames[r.Photo], Truth: eval[r.Person].TrueClass(r.Photo))).ToList();
        CompetitionLayout.WriteEvalInfo(Path.Combine(root, "eval", "info.csv"), rows.Select(r => r.Id));
        Submission.Write(Path.Combine(root, "eval", "answers.csv"), rows.Select(r => r.Id).ToList(), rows.Select(r => r.Truth).ToList());
    }

    /// <summary>
    /// Writes a PNG contact sheet to look at the drawing: one column per (gender, age) and one row per photo
    /// kind (two worn masks, incorrect, none). Cells of 96 x 128 show what a classifier at that input sees.
    /// </summary>
    public static void RenderPreview(string pngPath, int seed = 42, int cellWidth = 192, int cellHeight = 256,
        IReadOnlyList<int>? ages = null)
    {
        ages ??= [19, 24, 33, 45, 53, 57, 60];
        var columns = ages.SelectMany(a => new[] { (Gender.Female, a), (Gender.Male, a) }).ToArray();
        int[] photos = [0, 1, 5, 6];
        using var sheet = new SKBitmap(new SKImageInfo(cellWidth * columns.Length, cellHeight * photos.Length, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(sheet);
        using var painter = new PortraitPainter(cellWidth, cellHeight);
        for (var col = 0; col < columns.Length; col++)
        {
            var (gender, age) = columns[col];
            var look = Look.Create(SynthRandom.For(seed, Preview, col), gender, age);
            for (var row = 0; row < photos.Length; row++)
            {
                var k = photos[row];
                painter.Paint(look, Shot.Create(SynthRandom.For(seed, Preview, 1000 + col * 8 + k), look, PlannedPerson.NamedMask(k), k));
                canvas.DrawBitmap(painter.Bitmap, col * cellWidth, row * cellHeight);
            }
        }
        var dir = Path.GetDirectoryName(Path.GetFullPath(pngPath));
        if (dir is not null) Directory.CreateDirectory(dir);
        using var data = sheet.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(pngPath);
        data.SaveTo(file);
    }
}
