using System.Collections.Concurrent;

namespace MaskLab.Data.Faces;

/// <summary>How many photos a <see cref="FaceCropper"/> cut around a face, and how many got the centred fallback.</summary>
/// <param name="Undetected">Fallback crops of photos missing from the boxes (not looked at by the detector); 0 when wired right.</param>
public readonly record struct FaceCropCounts(int Faces, int Fallbacks, int Undetected);

/// <summary>
/// The image cache's face crop: each photo is cut around its detected box (<see cref="FaceCrop.Rectangle"/>), or
/// centred where no face was found, at the aspect of the size it is resized to. Training, evaluation and
/// prediction that build their caches with the same boxes and options see the same crops.
/// </summary>
public sealed class FaceCropper : IPhotoCrop
{
    readonly IReadOnlyDictionary<string, FaceBox?> _boxes;
    readonly ConcurrentDictionary<string, byte> _faces = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, byte> _fallbacks = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, byte> _undetected = new(StringComparer.Ordinal);

    /// <param name="boxes">Face boxes by full path, as <see cref="FaceBoxStore.Ensure"/> gives them.</param>
    public FaceCropper(IReadOnlyDictionary<string, FaceBox?> boxes, FaceCropOptions options)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _boxes = boxes;
        Options = options;
    }

    public FaceCropOptions Options { get; }

    /// <summary>Distinct photos cropped so far, by kind of crop.</summary>
    public FaceCropCounts Counts => new(_faces.Count, _fallbacks.Count + _undetected.Count, _undetected.Count);

    /// <summary>How the given photos (those already cropped) were cut: one photo list's share of a cache that holds several.</summary>
    public FaceCropCounts CountsOf(IEnumerable<string> paths)
    {
        int faces = 0, fallbacks = 0, undetected = 0;
        foreach (var key in paths.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal))
        {
            if (_faces.ContainsKey(key)) faces++;
            else if (_fallbacks.ContainsKey(key)) fallbacks++;
            else if (_undetected.ContainsKey(key)) { fallbacks++; undetected++; }
        }
        return new(faces, fallbacks, undetected);
    }

    public CropRect CropFor(string path, int photoWidth, int photoHeight, int targetWidth, int targetHeight)
    {
        var key = Path.GetFullPath(path);
        FaceBox? box = null;
        if (!_boxes.TryGetValue(key, out box)) _undetected.TryAdd(key, 0);
        else (box is null ? _fallbacks : _faces).TryAdd(key, 0);
        return FaceCrop.Rectangle(photoWidth, photoHeight, box, (double)targetWidth / targetHeight, Options);
    }
}
