namespace MaskLab.Data.Faces;

/// <summary>
/// An axis-aligned box in a photo's pixels: left <see cref="X"/>, top <see cref="Y"/> (y grows downwards), width
/// and height. Floats, since detectors and the synthetic painter place boxes between pixels.
/// </summary>
public readonly record struct FaceBox(float X, float Y, float Width, float Height)
{
    public float Right => X + Width;
    public float Bottom => Y + Height;
    public float CenterX => X + Width / 2;
    public float CenterY => Y + Height / 2;
    public float Area => Math.Max(Width, 0) * Math.Max(Height, 0);

    /// <summary>Intersection over union; 0 when either box is empty or they do not meet.</summary>
    public float IoU(FaceBox other)
    {
        var w = Math.Min(Right, other.Right) - Math.Max(X, other.X);
        var h = Math.Min(Bottom, other.Bottom) - Math.Max(Y, other.Y);
        if (w <= 0 || h <= 0) return 0;
        var inner = w * h;
        var union = Area + other.Area - inner;
        return union > 0 ? inner / union : 0;
    }

    /// <summary>The same box in a picture scaled by <paramref name="sx"/> across and <paramref name="sy"/> down.</summary>
    public FaceBox Scale(float sx, float sy) => new(X * sx, Y * sy, Width * sx, Height * sy);
}

/// <summary>One face a detector found: its box in the pixels of the picture it was given, and its confidence 0..1.</summary>
public readonly record struct FaceDetection(FaceBox Box, float Score);
