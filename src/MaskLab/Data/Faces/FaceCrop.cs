namespace MaskLab.Data.Faces;

/// <summary>A rectangle of whole pixels inside a photo: left, top, width, height.</summary>
public readonly record struct CropRect(int X, int Y, int Width, int Height)
{
    public int Right => X + Width;
    public int Bottom => Y + Height;

    public override string ToString() => $"{Width}x{Height}+{X}+{Y}";
}

/// <summary>How a face crop is cut.</summary>
/// <param name="Margin">Added on every side of the face box, as a fraction of its width (left and right) and height
/// (top and bottom): 0.3 turns a 100 x 100 box into 160 x 160 before the crop is widened to the wanted aspect.</param>
/// <param name="FallbackFraction">Where no face was found: the centred crop's size as a fraction of the largest
/// crop of the wanted aspect that fits the photo (1 keeps all of it that the aspect allows).</param>
public sealed record FaceCropOptions(double Margin = 0.3, double FallbackFraction = 0.8)
{
    public void Validate()
    {
        if (!(Margin >= 0 && Margin <= 5)) throw new MaskLabInputException($"face margin {Margin} must be 0..5 (a fraction of the face box)");
        if (!(FallbackFraction > 0 && FallbackFraction <= 1))
            throw new MaskLabInputException($"face fallback fraction {FallbackFraction} must be above 0 and at most 1");
    }
}

/// <summary>
/// Where to cut a photo around its face. Pure geometry: the same photo size, box and options always give the same
/// rectangle, which is what makes training, evaluation and prediction see the same crop.
/// </summary>
public static class FaceCrop
{
    /// <summary>
    /// The crop of a <paramref name="photoWidth"/> x <paramref name="photoHeight"/> photo for <paramref name="face"/>:
    /// the box grown by the margin on every side, then widened (never narrowed) about its centre to
    /// <paramref name="aspect"/> (width / height; pass the training size's, so that resizing the crop does not
    /// stretch it), shrunk about its centre if it is larger than the photo, and slid inside the photo. Without a
    /// face: a centred crop of that aspect, <see cref="FaceCropOptions.FallbackFraction"/> of the largest that fits.
    /// </summary>
    public static CropRect Rectangle(int photoWidth, int photoHeight, FaceBox? face, double aspect, FaceCropOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(photoWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(photoHeight);
        if (!(aspect > 0) || double.IsInfinity(aspect)) throw new ArgumentOutOfRangeException(nameof(aspect), aspect, "aspect must be a positive width / height");
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        double cx, cy, w, h;
        if (face is { } f && f.Width > 0 && f.Height > 0 && float.IsFinite(f.X + f.Y + f.Width + f.Height))
        {
            cx = f.X + f.Width / 2.0;
            cy = f.Y + f.Height / 2.0;
            w = f.Width * (1 + 2 * options.Margin);
            h = f.Height * (1 + 2 * options.Margin);
            if (w / h < aspect) w = h * aspect;
            else h = w / aspect;
        }
        else
        {
            cx = photoWidth / 2.0;
            cy = photoHeight / 2.0;
            (w, h) = photoWidth / (double)photoHeight > aspect ? (photoHeight * aspect, (double)photoHeight) : ((double)photoWidth, photoWidth / aspect);
            w *= options.FallbackFraction;
            h *= options.FallbackFraction;
        }

        var fit = Math.Min(1, Math.Min(photoWidth / w, photoHeight / h));
        w *= fit;
        h *= fit;
        var width = Math.Clamp((int)Math.Round(w, MidpointRounding.AwayFromZero), 1, photoWidth);
        var height = Math.Clamp((int)Math.Round(h, MidpointRounding.AwayFromZero), 1, photoHeight);
        var x = Math.Clamp((int)Math.Round(cx - width / 2.0, MidpointRounding.AwayFromZero), 0, photoWidth - width);
        var y = Math.Clamp((int)Math.Round(cy - height / 2.0, MidpointRounding.AwayFromZero), 0, photoHeight - height);
        return new CropRect(x, y, width, height);
    }
}
