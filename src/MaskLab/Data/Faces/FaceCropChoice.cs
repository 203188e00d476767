using SkiaSharp;

namespace MaskLab.Data.Faces;

/// <summary>The face crop a run reads its photos with, and why: <c>auto</c> made concrete for the data at hand.</summary>
internal sealed record ResolvedFaceCrop(FaceCropMode Mode, string Reason)
{
    public bool Crops => Mode == FaceCropMode.Detect;

    /// <summary>One line for the log, e.g. "face crop detect (auto: the competition layout holds photos of people)".</summary>
    public string Describe() => $"face crop {(Crops ? "detect" : "none")} ({Reason})";
}

/// <summary>
/// Turns the <c>face_crop</c> setting into detect or none. <c>auto</c> crops where the data is photos of people: the
/// competition layout always is; an image folder is when BlazeFace finds one plausible face (a box of at least
/// <see cref="MinFaceShare"/> of the photo's shorter side) in at least <see cref="MinPhotosWithFace"/> of an evenly
/// spaced sample of its photos. Anything else (clothes, objects, digits) is read whole: a face "found" in a photo that
/// shows none would cut the photo around nothing.
/// </summary>
internal static class FaceCropChoice
{
    /// <summary>Photos of an image folder looked at to decide.</summary>
    public const int SamplePhotos = 40;

    /// <summary>The share of the sample that must show a plausible face.</summary>
    public const double MinPhotosWithFace = 0.6;

    /// <summary>A plausible face's box is at least this share of the photo's shorter side (a portrait's is 0.3-0.6).</summary>
    public const double MinFaceShare = 0.12;

    /// <param name="competitionLayout">The photos come in the competition layout (person folders), not an image folder.</param>
    /// <param name="findFaces">Detects the faces of the given photos (full paths), null where none is found.</param>
    public static ResolvedFaceCrop Resolve(FaceCropMode setting, bool competitionLayout, IReadOnlyList<string> photos,
        Func<IReadOnlyList<string>, IReadOnlyDictionary<string, FaceBox?>> findFaces)
    {
        ArgumentNullException.ThrowIfNull(photos);
        ArgumentNullException.ThrowIfNull(findFaces);
        if (setting == FaceCropMode.Detect) return new(FaceCropMode.Detect, "asked for");
        if (setting == FaceCropMode.None) return new(FaceCropMode.None, "asked for");
        if (competitionLayout) return new(FaceCropMode.Detect, "auto: the competition layout holds photos of people");
        if (photos.Count == 0) return new(FaceCropMode.None, "auto: no photos to look at");
        var sample = Sample(photos, SamplePhotos);
        var boxes = findFaces(sample);
        int withFace = sample.Count(p => boxes.GetValueOrDefault(p) is { } box && Plausible(p, box));
        var share = (double)withFace / sample.Count;
        var counted = $"{withFace} of {sample.Count} sampled photos show a plausible face";
        return share >= MinPhotosWithFace
            ? new(FaceCropMode.Detect, $"auto: {counted}, so the image folder holds photos of people")
            : new(FaceCropMode.None, $"auto: only {counted} (at least {MinPhotosWithFace:P0} wanted), so the photos are read whole");
    }

    /// <summary>Up to <paramref name="count"/> photos evenly spaced through the list (sorted, so the choice does not depend on listing order).</summary>
    static IReadOnlyList<string> Sample(IReadOnlyList<string> photos, int count)
    {
        var sorted = photos.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (sorted.Length <= count) return sorted;
        return Enumerable.Range(0, count).Select(i => sorted[(int)((long)i * sorted.Length / count)]).ToArray();
    }

    static bool Plausible(string photo, FaceBox box)
    {
        using var codec = SKCodec.Create(photo);
        if (codec is null) return false;
        double side = Math.Min(codec.Info.Width, codec.Info.Height);
        return side > 0 && Math.Min(box.Width, box.Height) >= MinFaceShare * side;
    }
}
