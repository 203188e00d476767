namespace MaskLab.Data.Faces;

/// <summary>
/// Finds faces in an RGB picture. Implementations are thread-safe: the box store runs one detector on several
/// photos at once.
/// </summary>
public interface IFaceDetector : IDisposable
{
    /// <summary>
    /// Names the detector and every setting that changes its boxes (e.g. <c>blazeface-front-s0.5-nms0.3w</c>), so boxes
    /// cached by one detector are never served for another.
    /// </summary>
    string Id { get; }

    /// <summary>
    /// The longest side the detector looks at. A caller holding a bigger photo may decode it down to fit first:
    /// the detector would shrink it anyway, and a decoder's filtered shrink beats the detector's plain one.
    /// </summary>
    int InputSide { get; }

    /// <summary>
    /// Faces in <paramref name="rgb"/> (HWC, 3 bytes a pixel, <paramref name="width"/> x <paramref name="height"/>),
    /// boxes in that picture's pixels, the most confident first; empty when there is none.
    /// </summary>
    IReadOnlyList<FaceDetection> Detect(ReadOnlySpan<byte> rgb, int width, int height);
}
