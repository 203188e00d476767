using MaskLab.Data.Faces;
using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Evaluation;
using MaskLab.Runs;
using SkiaSharp;

namespace MaskLab.Dashboard;

/// <summary>An upload that is refused, with the status code and the one line to show.</summary>
public sealed class TrialException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// "Try a photo": an uploaded photo through a run (or every fold of a k-fold run, soft-voted), as eval and predict
/// would read it: checked by the training decoder (<see cref="ImageDecoder"/>), cut around its face where the run
/// crops faces (BlazeFace, <see cref="FaceCrop"/>), resized to the run's size. The upload lives in a private temporary
/// folder for the request only; nothing is written into a run or the user's cache.
/// </summary>
public sealed class PhotoTrial(RunCatalog catalog, DashboardOptions options) : IDisposable
{
    /// <summary>libtorch inference and the loaded models are shared: one trial at a time.</summary>
    readonly SemaphoreSlim _gate = new(1, 1);
    readonly Dictionary<string, (long Stamp, List<TrainedRun> Runs)> _loaded = new(StringComparer.Ordinal);
    readonly string _scratch = Path.Combine(Path.GetTempPath(), $"masklab-serve-{Environment.ProcessId}-{Guid.NewGuid():N}");

    /// <summary>The runs a photo can be tried on: those with a best checkpoint, and finished k-fold roots.</summary>
    public IReadOnlyList<RunRow> Candidates() =>
        catalog.Rows().Where(r => r.CanPredict && r.Kind is EntryKind.Run or EntryKind.Fold or EntryKind.KFold).ToList();

    public async Task<object> TryAsync(string id, Stream body, long? declaredLength, CancellationToken ct)
    {
        var row = catalog.Row(id) ?? throw new TrialException(404, $"no run '{id}'");
        if (!row.CanPredict) throw new TrialException(409, $"'{id}' cannot predict: {row.CannotPredict ?? "it has no trained weights"}");
        if (declaredLength > options.MaxUploadBytes) throw TooLarge(declaredLength.Value);

        Directory.CreateDirectory(_scratch);
        var file = Path.Combine(_scratch, $"upload-{Guid.NewGuid():N}");
        try
        {
            await Save(body, file, ct);
            var (width, height) = CheckPixels(file);
            await _gate.WaitAsync(ct);
            try { return Predict(row, file, width, height, ct); }
            finally { _gate.Release(); }
        }
        finally
        {
            try { File.Delete(file); } catch (IOException) { }
        }
    }

    TrialException TooLarge(long bytes) =>
        new(413, $"the photo is {bytes / 1024.0 / 1024.0:0.0} MB; uploads are capped at {options.MaxUploadBytes / 1024.0 / 1024.0:0.#} MB");

    /// <summary>Copies the body into the file, refusing it as soon as it passes the byte cap (a missing or false Content-Length changes nothing).</summary>
    async Task Save(Stream body, string file, CancellationToken ct)
    {
        await using var output = new FileStream(file, FileMode.CreateNew, FileAccess.Write);
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, ct)) > 0)
        {
            total += read;
            if (total > options.MaxUploadBytes) throw TooLarge(total);
            await output.WriteAsync(buffer.AsMemory(0, read), ct);
        }
        if (total == 0) throw new TrialException(400, "the upload is empty: choose a photo file");
    }

    /// <summary>The photo's size from its header, before any pixel is decoded; refused past the pixel cap or when it is no image.</summary>
    (int Width, int Height) CheckPixels(string file)
    {
        using (var codec = SKCodec.Create(file))
        {
            if (codec is null) throw new TrialException(400, "not an image in a format that can be read (JPEG, PNG, BMP, GIF, WebP)");
            var (w, h) = (codec.Info.Width, codec.Info.Height);
            if ((long)w * h > options.MaxUploadPixels)
                throw new TrialException(413, $"the photo is {w}x{h} ({(long)w * h / 1e6:0.#} megapixels); uploads are capped at {options.MaxUploadPixels / 1e6:0.#} megapixels");
        }
        // The training decoder's own checks (truncated, corrupt, empty), on the whole file.
        var probe = new byte[8 * 8 * 3];
        if (!ImageDecoder.TryDecode(file, 8, 8, probe, out var reason)) throw new TrialException(400, $"the photo cannot be read: {reason}");
        using var c2 = SKCodec.Create(file);
        return (c2!.Info.Width, c2.Info.Height);
    }

    List<TrainedRun> Load(RunRow row)
    {
        var dirs = RunDirectory.ExpandFolds([row.Dir]);
        var stamp = dirs.Aggregate(17L, (h, d) => unchecked(h * 31 + RunFiles.Stamp(new RunDirectory(d).BestCheckpoint, new RunDirectory(d).SummaryFile)));
        if (_loaded.TryGetValue(row.Dir, out var known) && known.Stamp == stamp) return known.Runs;
        if (known.Runs is not null) foreach (var r in known.Runs) r.Dispose();
        // Keep a few runs' weights: trying photos on one run after another should not reload them every time.
        if (_loaded.Count >= 4)
            foreach (var key in _loaded.Keys.ToList())
            {
                foreach (var r in _loaded[key].Runs) r.Dispose();
                _loaded.Remove(key);
            }
        var runs = new List<TrainedRun>();
        try { foreach (var d in dirs) runs.Add(TrainedRun.Load(d)); }
        catch
        {
            foreach (var r in runs) r.Dispose();
            throw;
        }
        _loaded[row.Dir] = (stamp, runs);
        return runs;
    }

    object Predict(RunRow row, string file, int width, int height, CancellationToken ct)
    {
        List<TrainedRun> runs;
        try { runs = Load(row); }
        catch (MaskLabInputException e) { throw new TrialException(409, e.Message); }
        var first = runs[0];
        var crop = first.Config.FaceCropSection;
        FaceBox? face = null;
        CropRect? cropRect = null;
        IPhotoCrop? cropper = null;
        if (crop.Active)
        {
            // The run's own detector and options; the box goes to a side file in the scratch folder, not the user's cache.
            using var detector = new BlazeFaceDetector();
            var boxes = FaceBoxStore.Ensure(FaceBoxStore.FileFor(_scratch, detector.Id), [file], detector, cancellationToken: ct);
            face = boxes.ByPath.Values.FirstOrDefault();
            cropper = new FaceCropper(boxes.ByPath, crop.Options);
            var size = first.Config.ImageSize;
            cropRect = FaceCrop.Rectangle(width, height, face, (double)size.Width / size.Height, crop.Options);
        }
        var sample = new Sample(Path.GetFullPath(file), 0, "upload");
        var each = new List<float[,]>();
        foreach (var run in runs)
        {
            var size = run.Config.ImageSize;
            var cache = new ImageCache(size.Width, size.Height, maxBytes: (long)size.Width * size.Height * 3 * 2, crop: cropper);
            each.Add(run.Probabilities([sample], cache, tta: false, ct: ct));
        }
        var probs = Ensemble.Combine(each, null, Vote.Soft);
        int classes = probs.GetLength(1);
        var names = RunDetails.ClassNames(RunFiles.ReadSummary(first.Directory, out _), classes);
        var p = Enumerable.Range(0, classes).Select(c => (double)probs[0, c]).ToArray();
        int top = Array.IndexOf(p, p.Max());
        object? answer = null;
        if (classes == TaskClasses.Count)
        {
            var (m, g, a) = TaskClasses.Decode(top);
            double Sum(Func<int, bool> pick) => Enumerable.Range(0, classes).Where(pick).Sum(c => p[c]);
            answer = new
            {
                mask = TaskClasses.MaskWord(m), maskP = Sum(c => TaskClasses.MaskOf(c) == m),
                gender = TaskClasses.GenderWord(g), genderP = Sum(c => TaskClasses.GenderOf(c) == g),
                age = TaskClasses.AgeWord(a), ageP = Sum(c => TaskClasses.AgeOf(c) == a),
            };
        }
        return new
        {
            run = row.Id,
            models = runs.Count,
            checkpoints = runs.Select(r => r.CheckpointDescription).ToArray(),
            width, height,
            faceCrop = crop.Active,
            face = face is { } f ? new { x = f.X, y = f.Y, width = f.Width, height = f.Height } : null,
            crop = cropRect is { } r ? new { x = r.X, y = r.Y, width = r.Width, height = r.Height } : null,
            top, topName = names.ElementAtOrDefault(top), topP = p[top],
            answer,
            probabilities = p.Select((v, c) => new { @class = c, name = names.ElementAtOrDefault(c), p = v }).ToArray(),
        };
    }

    public void Dispose()
    {
        foreach (var (_, (_, runs)) in _loaded) foreach (var r in runs) r.Dispose();
        _loaded.Clear();
        try { if (Directory.Exists(_scratch)) Directory.Delete(_scratch, recursive: true); }
        catch (IOException) { }
        _gate.Dispose();
    }
}
