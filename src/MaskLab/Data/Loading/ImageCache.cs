using System.Collections.Concurrent;
using MaskLab.Data.Faces;

namespace MaskLab.Data.Loading;

/// <summary>
/// Holds each image decoded and resized to the training size once, so that epochs after the first never decode
/// a JPEG again (decoding a 384 x 512 photo costs far more than augmenting its small copy). Thread-safe.
/// </summary>
/// <remarks>
/// <para>Memory: <see cref="BytesPerImage"/> = width x height x 3. At 128 x 96 that is 36,864 bytes, so the
/// task's 18,900 training photos take 0.70 GB and train + eval (31,500) 1.16 GB. At 384 x 288 it is 332 KB a
/// photo, 6.3 GB for the training set. Past <see cref="MaxBytes"/> (by default half the memory the runtime may
/// use) nothing more is cached: such images are decoded again on each use, slower but correct.</para>
/// <para>Images live in slabs of about 16 MB rather than one array each: a few large arrays stay put in the
/// large-object heap, where 30,000 small ones would be copied by every full garbage collection.</para>
/// </remarks>
public sealed class ImageCache
{
    const int SlabBytes = 16 << 20;

    readonly ConcurrentDictionary<string, ReadOnlyMemory<byte>> _images = new(StringComparer.Ordinal);
    readonly object _slabLock = new();
    readonly Stack<Memory<byte>> _freeSlots = new();
    byte[]? _slab;
    int _slabUsed;
    long _reservedBytes;

    /// <param name="width">Width every cached image is resized to.</param>
    /// <param name="height">Height every cached image is resized to.</param>
    /// <param name="maxBytes">Most bytes of pixels to hold; null for <see cref="DefaultMaxBytes"/>.</param>
    /// <param name="crop">Which part of each photo to keep (e.g. a <see cref="FaceCropper"/>); null keeps the whole photo.</param>
    public ImageCache(int width, int height, long? maxBytes = null, IPhotoCrop? crop = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        Width = width;
        Height = height;
        BytesPerImage = checked(width * height * 3);
        MaxBytes = maxBytes ?? DefaultMaxBytes();
        ArgumentOutOfRangeException.ThrowIfNegative(MaxBytes, nameof(maxBytes));
        Crop = crop;
    }

    /// <summary>The part of each photo that is resized and kept; null for the whole photo.</summary>
    public IPhotoCrop? Crop { get; }

    public int Width { get; }
    public int Height { get; }

    /// <summary>Bytes one cached image takes: RGB, HWC.</summary>
    public int BytesPerImage { get; }

    /// <summary>Most bytes of pixels this cache holds.</summary>
    public long MaxBytes { get; }

    /// <summary>Images held.</summary>
    public int Count => _images.Count;

    /// <summary>Bytes of pixels held.</summary>
    public long CachedBytes => (long)_images.Count * BytesPerImage;

    /// <summary>Half the memory the runtime may use, leaving the rest to the model, its activations and the OS.</summary>
    public static long DefaultMaxBytes() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2;

    public bool Contains(string path) => _images.ContainsKey(Key(path));

    /// <summary>The cached RGB bytes (HWC, <see cref="Width"/> x <see cref="Height"/>) of <paramref name="path"/>, if held.</summary>
    public bool TryGet(string path, out ReadOnlyMemory<byte> rgb) => _images.TryGetValue(Key(path), out rgb);

    /// <summary>
    /// The RGB bytes of <paramref name="path"/>, decoding (and caching, while the budget lasts) on a miss.
    /// The result must not be written to: it is shared.
    /// </summary>
    /// <exception cref="MaskLabInputException">The file is not a readable image; the message names it.</exception>
    public ReadOnlyMemory<byte> Get(string path)
    {
        var key = Key(path);
        if (_images.TryGetValue(key, out var rgb)) return rgb;
        byte[]? fresh = null;
        if (TryLoad(key, out rgb, out var reason, ref fresh)) return rgb;
        throw new MaskLabInputException($"cannot read image '{path}': {reason}");
    }

    /// <summary>
    /// <see cref="Preload"/> for work that cannot go on without every photo (evaluation, prediction, benchmarks):
    /// throws <see cref="BadImagesException"/> listing the unreadable ones, with <paramref name="advice"/>.
    /// </summary>
    public void PreloadAll(IReadOnlyList<string> paths, IProgress<int>? progress = null, CancellationToken cancellationToken = default,
        string advice = "fix or remove them")
    {
        var bad = Preload(paths, progress, cancellationToken);
        if (bad.Count > 0) throw new BadImagesException(bad, advice);
    }

    /// <summary>
    /// Decodes every path not yet cached, in parallel on all cores, and caches the good ones. Returns every bad
    /// file with its reason, in the order given, so that a run can fail before training and list them all, or
    /// skip them. Past the budget, images are still decoded (to find bad ones) but not kept.
    /// </summary>
    /// <param name="progress">Receives how many paths are done so far: rising, about 200 reports in all, the last equal to the count.</param>
    /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> fires.</exception>
    public IReadOnlyList<(string Path, string Reason)> Preload(
        IReadOnlyList<string> paths, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var reasons = new string?[paths.Count];
        int done = 0, reported = 0;
        int step = Math.Max(1, paths.Count / 200);
        var reportLock = new object();
        var options = new ParallelOptions
        {
            MaxDegreeOfParallelism = Environment.ProcessorCount,
            CancellationToken = cancellationToken,
        };

        // Past the budget a photo is decoded only to check it: into one scratch buffer per worker, not a new array
        // each, so checking thousands of large photos does not pile up garbage faster than the GC returns it.
        Parallel.For<byte[]?>(0, paths.Count, options, () => null, (i, loop, scratch) =>
        {
            var key = Key(paths[i]);
            if (!_images.ContainsKey(key) && !TryLoad(key, out _, out var reason, ref scratch))
                reasons[i] = reason;

            int now = Interlocked.Increment(ref done);
            if (progress is not null && (now % step == 0 || now == paths.Count))
            {
                // Threads finish out of order; only ever report a higher count so a progress bar never steps back.
                lock (reportLock)
                {
                    if (now > reported)
                    {
                        reported = now;
                        progress.Report(now);
                    }
                }
            }
            return scratch;
        }, _ => { });

        var bad = new List<(string, string)>();
        for (int i = 0; i < reasons.Length; i++)
            if (reasons[i] is { } r) bad.Add((paths[i], r));
        return bad;
    }

    /// <param name="scratch">Where a photo past the budget is decoded: reused when it is the right size, else a new
    /// array is made and left there (a caller keeping the result passes null each time).</param>
    bool TryLoad(string key, out ReadOnlyMemory<byte> rgb, out string reason, ref byte[]? scratch)
    {
        if (TryReserve(out var slot))
        {
            if (!ImageDecoder.TryDecode(key, Width, Height, slot.Span, Crop, out reason))
            {
                Release(slot);
                rgb = default;
                return false;
            }
            rgb = _images.GetOrAdd(key, slot);
            if (!rgb.Equals((ReadOnlyMemory<byte>)slot)) Release(slot); // another thread cached it first
            return true;
        }

        // Over budget: decode into a private array that the caller keeps; nothing is cached.
        if (scratch is null || scratch.Length != BytesPerImage) scratch = new byte[BytesPerImage];
        var buffer = scratch;
        if (!ImageDecoder.TryDecode(key, Width, Height, buffer, Crop, out reason))
        {
            rgb = default;
            return false;
        }
        rgb = buffer;
        return true;
    }

    bool TryReserve(out Memory<byte> slot)
    {
        lock (_slabLock)
        {
            if (_freeSlots.TryPop(out slot)) return true;
            if (_reservedBytes + BytesPerImage > MaxBytes)
            {
                slot = default;
                return false;
            }
            int perSlab = _slab is null ? 0 : _slab.Length / BytesPerImage;
            if (_slab is null || _slabUsed == perSlab)
            {
                long imagesLeft = (MaxBytes - _reservedBytes) / BytesPerImage;
                int images = (int)Math.Clamp(imagesLeft, 1, Math.Max(1, SlabBytes / BytesPerImage));
                _slab = GC.AllocateUninitializedArray<byte>(images * BytesPerImage);
                _slabUsed = 0;
            }
            slot = _slab.AsMemory(_slabUsed * BytesPerImage, BytesPerImage);
            _slabUsed++;
            _reservedBytes += BytesPerImage;
            return true;
        }
    }

    void Release(Memory<byte> slot)
    {
        lock (_slabLock) _freeSlots.Push(slot);
    }

    static string Key(string path) => Path.GetFullPath(path);
}

/// <summary>
/// One <see cref="ImageCache"/> per input size and face crop, so that runs that read photos the same way decode each
/// photo once, and runs that crop differently never share pixels.
/// </summary>
public sealed class ImageCaches(string? faceBoxFolder = null)
{
    readonly ConcurrentDictionary<(ImageSize, FaceCropSpec), Lazy<(ImageCache Cache, FaceCropSource? Faces)>> _caches = new();

    /// <summary>
    /// Adds a cache that is already filled (a run's, which holds its eval photos) as the one for
    /// <paramref name="size"/> and <paramref name="crop"/>, with the face boxes it was cut with.
    /// </summary>
    public ImageCaches With(ImageSize size, FaceCropSpec crop, ImageCache cache, FaceCropSource? faces)
    {
        ArgumentNullException.ThrowIfNull(crop);
        _caches.TryAdd((size, crop), new((cache, faces)));
        return this;
    }

    /// <summary>The cache of whole photos at <paramref name="size"/>.</summary>
    public ImageCache For(ImageSize size) => For(size, FaceCropSpec.None, []);

    /// <summary>
    /// The cache for <paramref name="size"/> and <paramref name="crop"/>. With a face crop, the faces of
    /// <paramref name="photos"/> are found first (from the shared box file, or detected): pass every photo the
    /// cache is about to decode.
    /// </summary>
    /// <param name="detected">Receives the running count of photos run through the face detector.</param>
    public ImageCache For(ImageSize size, FaceCropSpec crop, IReadOnlyList<string> photos, IProgress<int>? detected = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(crop);
        var entry = _caches.GetOrAdd((size, crop), key => new(() =>
        {
            var faces = key.Item2.Active ? new FaceCropSource(key.Item2.Options, faceBoxFolder) : null;
            return (new ImageCache(key.Item1.Width, key.Item1.Height, crop: faces?.Cropper), faces);
        })).Value;
        entry.Faces?.Cover(photos, detected, ct);
        return entry.Cache;
    }
}

/// <summary>Images that cannot be read: the message names the first and says what to do; <see cref="Bad"/> lists them all.</summary>
public sealed class BadImagesException(IReadOnlyList<(string Path, string Reason)> bad, string advice)
    : MaskLabInputException($"{bad.Count} unreadable image(s), first {bad[0].Path}: {bad[0].Reason}; {advice}")
{
    public IReadOnlyList<(string Path, string Reason)> Bad { get; } = bad;
}
