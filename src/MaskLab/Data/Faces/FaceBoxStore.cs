using System.Collections.Concurrent;
using System.Diagnostics;

namespace MaskLab.Data.Faces;

/// <summary>What <see cref="FaceBoxStore.Ensure"/> did.</summary>
/// <param name="Photos">Photos asked for.</param>
/// <param name="Detected">Photos the detector looked at in this call (the rest came from the side file).</param>
/// <param name="WithFace">Photos with a face (asked for, from either source).</param>
/// <param name="WithoutFace">Photos where no face was found: they get the centred fallback crop.</param>
/// <param name="Unreadable">Photos that could not be decoded; they have no row, and the image cache reports them.</param>
public sealed record FaceBoxReport(int Photos, int Detected, int WithFace, int WithoutFace, int Unreadable, TimeSpan Elapsed)
{
    public int Reused => Photos - Detected;

    /// <summary>Why the side file could not be read (random bytes, a bad number, a cut line), where it could not: its boxes were found again and the file rewritten.</summary>
    public string? CacheDamage { get; init; }

    public double DetectedPerSecond => Elapsed.TotalSeconds > 0 ? Detected / Elapsed.TotalSeconds : 0;
}

/// <summary>Each photo's face box (null: none found), keyed by full path, and how they were obtained.</summary>
public sealed record FaceBoxes(IReadOnlyDictionary<string, FaceBox?> ByPath, FaceBoxReport Report);

/// <summary>
/// Detects each photo's face once and keeps the boxes in a side file (<c>path,x,y,w,h,score</c>, full paths), so
/// later runs over the same photos read boxes instead of running the detector. One side file per detector
/// (<see cref="FileFor"/>): boxes from other settings are never mixed in.
/// </summary>
/// <remarks>A photo rewritten in place under the same path keeps its old box: delete the side file after editing photos.</remarks>
public static class FaceBoxStore
{
    /// <summary>The side file for <paramref name="detectorId"/> in <paramref name="folder"/> (e.g. the user's cache folder).</summary>
    public static string FileFor(string folder, string detectorId)
    {
        var safe = new string(detectorId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' ? c : '_').ToArray());
        return Path.Combine(folder, $"face-boxes-{safe}.csv");
    }

    /// <summary>
    /// Boxes for every photo in <paramref name="photoPaths"/>: read from <paramref name="sideFile"/> where it has
    /// them, detected (in parallel on all cores) where it does not; the side file is then rewritten with the union
    /// of what it held, what another process may have added meanwhile, and the new boxes.
    /// </summary>
    /// <param name="progress">Receives the running count of photos detected in this call, rising.</param>
    public static FaceBoxes Ensure(string sideFile, IReadOnlyList<string> photoPaths, IFaceDetector detector,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(photoPaths);
        ArgumentNullException.ThrowIfNull(detector);
        var clock = Stopwatch.StartNew();
        var known = Load(sideFile, out var damage);
        var wanted = photoPaths.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).ToArray();
        var missing = wanted.Where(p => !known.ContainsKey(p)).ToArray();

        var found = new ConcurrentDictionary<string, FaceBoxRow>(StringComparer.Ordinal);
        var unreadable = 0;
        int done = 0, reported = 0;
        var reportLock = new object();
        Parallel.For(0, missing.Length,
            new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken },
            i =>
            {
                var r = PhotoFaces.Detect(detector, missing[i]);
                if (r.Readable) found[missing[i]] = new FaceBoxRow(missing[i], r.Best?.Box, r.Best?.Score);
                else Interlocked.Increment(ref unreadable);
                var now = Interlocked.Increment(ref done);
                if (progress is null) return;
                // Threads finish out of order; only a higher count is reported, so a progress bar never steps back.
                lock (reportLock)
                    if (now > reported)
                    {
                        reported = now;
                        progress.Report(now);
                    }
            });

        if (!found.IsEmpty || damage is not null)
        {
            var merged = Load(sideFile, out _); // another process may have written boxes since we read
            foreach (var (path, row) in found) merged[path] = row;
            FaceBoxFile.Write(sideFile, merged.Values.OrderBy(r => r.Path, StringComparer.Ordinal), withScore: true);
            foreach (var (path, row) in found) known[path] = row;
        }

        var byPath = new Dictionary<string, FaceBox?>(StringComparer.Ordinal);
        foreach (var p in wanted)
            if (known.TryGetValue(p, out var row)) byPath[p] = row.Box;
        var withFace = byPath.Values.Count(b => b is not null);
        return new FaceBoxes(byPath,
            new FaceBoxReport(wanted.Length, missing.Length, withFace, byPath.Count - withFace, unreadable, clock.Elapsed)
            {
                CacheDamage = damage is null ? null : $"the face box cache '{sideFile}' was damaged ({damage}): its boxes were found again and the file rewritten",
            });
    }

    /// <summary>
    /// The side file's rows; a file that cannot be read as one (random bytes, a bad number, a cut row) is a cache to
    /// rebuild, not an input error: no rows, and <paramref name="damage"/> says what was wrong.
    /// </summary>
    static Dictionary<string, FaceBoxRow> Load(string sideFile, out string? damage)
    {
        var rows = new Dictionary<string, FaceBoxRow>(StringComparer.Ordinal);
        damage = null;
        if (!File.Exists(sideFile) && !Directory.Exists(sideFile)) return rows;
        try
        {
            foreach (var r in FaceBoxFile.Read(sideFile))
            {
                if (!Path.IsPathFullyQualified(r.Path)) throw new MaskLabInputException($"'{Echo.Of(r.Path, 40)}' is not a full path");
                rows[r.Path] = r;
            }
        }
        catch (MaskLabInputException e)
        {
            var reason = e.Message.StartsWith(sideFile, StringComparison.Ordinal) ? e.Message[sideFile.Length..].TrimStart(' ', ':') : e.Message;
            damage = Echo.Of(reason, 120);
            rows.Clear();
        }
        return rows;
    }
}
