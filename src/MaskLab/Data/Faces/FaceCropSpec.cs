using System.Globalization;

namespace MaskLab.Data.Faces;

/// <summary>
/// How a run reads its photos: whole, or cut around the detected face with <see cref="Options"/>. Equal specs give
/// equal crops, so caches are shared by spec (and size), and eval and predict repeat what training saw.
/// </summary>
public sealed record FaceCropSpec(FaceCropMode Mode, FaceCropOptions Options)
{
    public static readonly FaceCropSpec None = new(FaceCropMode.None, new FaceCropOptions());

    /// <summary>The main job's: auto (each photo cut around its detected face where the data is photos of people) with the default margin.</summary>
    public static readonly FaceCropSpec Default = new(FaceCropMode.Auto, new FaceCropOptions());

    public bool Active => Mode == FaceCropMode.Detect;

    /// <summary>Where runs keep their face boxes unless told otherwise: <c>MASKLAB_HOME/face-boxes</c>, shared by every run.</summary>
    public static string DefaultBoxFolder => Path.Combine(Core.MaskLabHome.Root, "face-boxes");

    public override string ToString() => Mode switch
    {
        FaceCropMode.None => "none",
        var m => string.Create(CultureInfo.InvariantCulture, $"{(m == FaceCropMode.Auto ? "auto" : "detect")}(margin {Options.Margin:0.###}, fallback {Options.FallbackFraction:0.###})"),
    };
}

/// <summary>
/// The face crop of one image cache: the boxes of every photo it has been asked to cover (read from the shared side
/// file, or detected and added to it) and the <see cref="FaceCropper"/> that cuts them. Photos can be added later
/// (<see cref="Cover"/>), so one cache can serve several photo lists.
/// </summary>
public sealed class FaceCropSource
{
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, FaceBox?> _boxes = new(StringComparer.Ordinal);
    readonly object _coverLock = new();

    public FaceCropSource(FaceCropOptions options, string? boxFolder = null, BlazeFaceOptions? detector = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        BoxFolder = boxFolder ?? FaceCropSpec.DefaultBoxFolder;
        Detector = detector ?? new BlazeFaceOptions();
        Detector.Validate();
        Cropper = new FaceCropper(_boxes, options);
        DetectorId = BlazeFaceDetector.IdFor(Detector);
    }

    public string BoxFolder { get; }
    public BlazeFaceOptions Detector { get; }
    public string DetectorId { get; }
    public string BoxFile => FaceBoxStore.FileFor(BoxFolder, DetectorId);

    /// <summary>The crop to hand to an <see cref="ImageCache"/>; it counts face crops and fallbacks as photos are decoded.</summary>
    public FaceCropper Cropper { get; }

    /// <summary>What the last <see cref="Cover"/> that had photos to look up did.</summary>
    public FaceBoxReport? LastReport { get; private set; }

    /// <summary>Photos covered so far and, of them, those where no face was found (they get the centred fallback).</summary>
    public (int Photos, int WithoutFace) Boxes => (_boxes.Count, _boxes.Values.Count(b => b is null));

    /// <summary>
    /// Makes sure every photo has its box (null where no face was found) before it is decoded: boxes come from the
    /// side file, or are detected and added to it. Photos already covered cost nothing.
    /// </summary>
    /// <param name="detected">Receives the running count of photos detected in this call.</param>
    public FaceBoxReport? Cover(IReadOnlyList<string> photos, IProgress<int>? detected = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(photos);
        lock (_coverLock)
        {
            var wanted = photos.Select(Path.GetFullPath).Where(p => !_boxes.ContainsKey(p)).Distinct(StringComparer.Ordinal).ToArray();
            if (wanted.Length == 0) return null;
            using var faces = new BlazeFaceDetector(Detector);
            var found = FaceBoxStore.Ensure(FaceBoxStore.FileFor(BoxFolder, faces.Id), wanted, faces, detected, ct);
            foreach (var (path, box) in found.ByPath) _boxes[path] = box;
            return LastReport = found.Report;
        }
    }
}
