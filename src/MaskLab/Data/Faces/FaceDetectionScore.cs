using System.Diagnostics;

namespace MaskLab.Data.Faces;

/// <summary>A photo whose face box is known, with a group name for the report (e.g. the mask state).</summary>
internal sealed record FaceTruth(string Path, FaceBox Box, string Kind);

/// <summary>How a detector did on one group of photos.</summary>
/// <param name="Found">Photos where the detector returned a face at all.</param>
/// <param name="Hits">Photos whose most confident face overlaps the truth by IoU at least the hit bound.</param>
/// <param name="MeanIoU">Mean IoU of the most confident face with the truth, a photo without a face counting 0.</param>
/// <param name="MeanIoUFound">The same over the photos with a face only.</param>
internal sealed record FaceKindScore(string Kind, int Photos, int Found, int Hits, double MeanIoU, double MeanIoUFound)
{
    public double HitRate => Photos > 0 ? (double)Hits / Photos : 0;
    public double FoundRate => Photos > 0 ? (double)Found / Photos : 0;
}

/// <summary>A detector measured against known face boxes: per group and over all, with its speed.</summary>
/// <param name="PhotosPerSecond">Photos decoded and searched per second on <paramref name="Threads"/> threads (file reads included).</param>
internal sealed record FaceDetectionScore(string Detector, double HitIoU, IReadOnlyList<FaceKindScore> Kinds, FaceKindScore All,
    double PhotosPerSecond, int Threads, int Unreadable);

/// <summary>Measures a face detector where the truth is known (the synthetic set's <c>face_boxes.csv</c>).</summary>
internal static class FaceDetectionMeasure
{
    /// <summary>
    /// Runs <paramref name="detector"/> on every photo of <paramref name="photos"/> as the box store does
    /// (<see cref="PhotoFaces.Detect"/>) and scores its most confident face against the truth.
    /// </summary>
    /// <param name="hitIoU">The IoU at which a box counts as a hit (0.5, as in PASCAL VOC).</param>
    /// <param name="threads">Photos searched at once; null for every core.</param>
    public static FaceDetectionScore Measure(IFaceDetector detector, IReadOnlyList<FaceTruth> photos, double hitIoU = 0.5, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(detector);
        ArgumentNullException.ThrowIfNull(photos);
        var n = threads ?? Environment.ProcessorCount;
        var ious = new double?[photos.Count]; // null: no face found
        var readable = new bool[photos.Count];
        var clock = Stopwatch.StartNew();
        Parallel.For(0, photos.Count, new ParallelOptions { MaxDegreeOfParallelism = n }, i =>
        {
            var r = PhotoFaces.Detect(detector, photos[i].Path);
            readable[i] = r.Readable;
            if (r.Best is { } best) ious[i] = best.Box.IoU(photos[i].Box);
        });
        var seconds = clock.Elapsed.TotalSeconds;

        FaceKindScore Score(string kind, IEnumerable<int> which)
        {
            var idx = which.Where(i => readable[i]).ToArray();
            var found = idx.Where(i => ious[i] is not null).ToArray();
            return new FaceKindScore(kind, idx.Length, found.Length,
                found.Count(i => ious[i] >= hitIoU),
                idx.Length > 0 ? idx.Sum(i => ious[i] ?? 0) / idx.Length : 0,
                found.Length > 0 ? found.Average(i => ious[i]!.Value) : 0);
        }

        var all = Enumerable.Range(0, photos.Count);
        var kinds = photos.Select(p => p.Kind).Distinct(StringComparer.Ordinal)
            .Select(k => Score(k, all.Where(i => photos[i].Kind == k))).ToArray();
        return new FaceDetectionScore(detector.Id, hitIoU, kinds, Score("all", all),
            seconds > 0 ? photos.Count / seconds : 0, n, readable.Count(r => !r));
    }
}
