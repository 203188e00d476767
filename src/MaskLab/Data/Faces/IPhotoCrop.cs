namespace MaskLab.Data.Faces;

/// <summary>
/// Chooses the part of a photo that the image cache keeps. The decoder asks once it knows the photo's size, and
/// resizes only that part to the training size. Thread-safe: the cache decodes photos in parallel.
/// </summary>
public interface IPhotoCrop
{
    /// <summary>
    /// The rectangle of the <paramref name="photoWidth"/> x <paramref name="photoHeight"/> photo at
    /// <paramref name="path"/> (a full path) to resize to <paramref name="targetWidth"/> x <paramref name="targetHeight"/>.
    /// </summary>
    CropRect CropFor(string path, int photoWidth, int photoHeight, int targetWidth, int targetHeight);
}
