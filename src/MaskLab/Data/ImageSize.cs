namespace MaskLab.Data;

/// <summary>An image size written WxH (width x height), e.g. 96x128 for the task's portrait photos.</summary>
public readonly record struct ImageSize(int Width, int Height)
{
    public static ImageSize Parse(string text)
    {
        var parts = text.ToLowerInvariant().Split('x', StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || !int.TryParse(parts[0], out var w) || !int.TryParse(parts[1], out var h) || w <= 0 || h <= 0 || w > 8192 || h > 8192)
            throw new MaskLabInputException($"image size '{text}' is not WxH with positive whole numbers, e.g. 96x128");
        return new ImageSize(w, h);
    }

    public override string ToString() => $"{Width}x{Height}";
}
