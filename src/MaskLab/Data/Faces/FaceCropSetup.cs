namespace MaskLab.Data.Faces;

/// <summary>
/// The <c>face_crop</c> setting: keep whole photos, cut each around its detected face, or auto: cut where the data is
/// photos of people (<see cref="FaceCropChoice"/>), keep them whole elsewhere.
/// </summary>
public enum FaceCropMode { None, Detect, Auto }

/// <summary>Reading the face crop settings, and preparing the crop an image cache uses.</summary>
internal static class FaceCropSetup
{
    /// <summary>Parses <c>none</c>, <c>detect</c> or <c>auto</c> (any case); anything else throws <see cref="MaskLabInputException"/> naming it.</summary>
    public static FaceCropMode ParseMode(string text) => text.Trim().ToLowerInvariant() switch
    {
        "none" => FaceCropMode.None,
        "detect" => FaceCropMode.Detect,
        "auto" => FaceCropMode.Auto,
        _ => throw new MaskLabInputException($"face_crop '{text}' must be none, detect or auto"),
    };

    /// <summary>
    /// Finds every photo's face (reading boxes already in the side file under <paramref name="boxFolder"/>, detecting
    /// the rest with BlazeFace and adding them) and returns the crop to hand to <see cref="ImageCache"/>, with what
    /// detection did: <see cref="FaceBoxReport.WithoutFace"/> photos get the centred fallback. Call it with every
    /// photo the cache will hold (train and validation, or the eval photos) before decoding them.
    /// </summary>
    /// <param name="boxFolder">Where side files live, e.g. a <c>face-boxes</c> folder in the user's cache; shared by runs.</param>
    /// <param name="progress">Receives the running count of photos detected (not those read from the side file).</param>
    public static (FaceCropper Crop, FaceBoxReport Report) Prepare(IReadOnlyList<string> photoPaths, string boxFolder,
        FaceCropOptions crop, BlazeFaceOptions? detector = null, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(crop);
        crop.Validate();
        using var faces = new BlazeFaceDetector(detector);
        var boxes = FaceBoxStore.Ensure(FaceBoxStore.FileFor(boxFolder, faces.Id), photoPaths, faces, progress, cancellationToken);
        return (new FaceCropper(boxes.ByPath, crop), boxes.Report);
    }
}
