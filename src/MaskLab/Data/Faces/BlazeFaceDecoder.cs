namespace MaskLab.Data.Faces;

/// <summary>
/// What turns BlazeFace's raw outputs into face boxes: the anchors of its two feature maps, the decoding of each
/// anchor's regression, a score threshold and the overlap removal. Pure arithmetic on arrays, so the tests can
/// feed it numbers worked out by hand.
/// </summary>
/// <remarks>
/// The short-range ("front") model sees a 128 x 128 picture and predicts for 896 anchors: a 16 x 16 grid (stride 8)
/// with 2 anchors a cell, then an 8 x 8 grid (stride 16) with 6, in row-major cell order and anchors innermost.
/// Anchors have a fixed unit size, so each anchor's 16 numbers are pixel offsets of the box centre from the
/// anchor centre, the box width and height in pixels, and six key points (eyes, nose, mouth, ears) as offsets.
/// </remarks>
internal static class BlazeFaceDecoder
{
    public const int InputSide = 128;
    public const int ValuesPerAnchor = 16;

    /// <summary>(cells across, anchors per cell) of each feature map, in output order.</summary>
    static readonly (int Cells, int PerCell)[] Layers = [(16, 2), (8, 6)];

    /// <summary>Anchor centres in 0..1 of the model's input, in output order (896).</summary>
    public static readonly (float X, float Y)[] Anchors = BuildAnchors();

    static (float X, float Y)[] BuildAnchors()
    {
        var anchors = new List<(float, float)>();
        foreach (var (cells, perCell) in Layers)
            for (var y = 0; y < cells; y++)
                for (var x = 0; x < cells; x++)
                    for (var a = 0; a < perCell; a++)
                        anchors.Add(((x + 0.5f) / cells, (y + 0.5f) / cells));
        return [.. anchors];
    }

    /// <summary>A decoded box in 0..1 of the model's input (centre and size) with its score.</summary>
    public readonly record struct Candidate(float CenterX, float CenterY, float Width, float Height, float Score)
    {
        public FaceBox Box => new(CenterX - Width / 2, CenterY - Height / 2, Width, Height);
    }

    /// <summary>
    /// Every anchor whose score passes <paramref name="threshold"/>, decoded. <paramref name="logits"/> holds one raw
    /// score per anchor, <paramref name="regressions"/> <see cref="ValuesPerAnchor"/> numbers per anchor.
    /// </summary>
    public static List<Candidate> Decode(ReadOnlySpan<float> logits, ReadOnlySpan<float> regressions, float threshold)
    {
        if (logits.Length != Anchors.Length || regressions.Length != Anchors.Length * ValuesPerAnchor)
            throw new ArgumentException($"BlazeFace output holds {logits.Length} scores and {regressions.Length} box values; expected {Anchors.Length} and {Anchors.Length * ValuesPerAnchor}");
        var found = new List<Candidate>();
        for (var i = 0; i < Anchors.Length; i++)
        {
            var score = Sigmoid(logits[i]);
            if (!(score >= threshold)) continue;
            var r = regressions.Slice(i * ValuesPerAnchor, 4);
            var (ax, ay) = Anchors[i];
            found.Add(new Candidate(ax + r[0] / InputSide, ay + r[1] / InputSide, r[2] / InputSide, r[3] / InputSide, score));
        }
        return found;
    }

    /// <summary>Logits past ±100 are clipped as MediaPipe does; it keeps exp() finite.</summary>
    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-Math.Clamp(x, -100f, 100f)));

    /// <summary>
    /// Overlap removal, most confident first. Each kept box absorbs every remaining box that overlaps it by more
    /// than <paramref name="iouThreshold"/>. With <paramref name="weighted"/> the kept box becomes the score-weighted
    /// mean of the boxes it absorbed (MediaPipe's choice for BlazeFace: steadier boxes than the single best anchor);
    /// otherwise it stays as it was (plain NMS). The score is the best one's either way.
    /// </summary>
    public static List<Candidate> Suppress(List<Candidate> candidates, float iouThreshold, bool weighted)
    {
        var left = candidates.OrderByDescending(c => c.Score).ToList();
        var kept = new List<Candidate>();
        while (left.Count > 0)
        {
            var best = left[0];
            var bestBox = best.Box;
            var group = new List<Candidate>();
            var rest = new List<Candidate>();
            foreach (var c in left)
                (c.Equals(best) || bestBox.IoU(c.Box) > iouThreshold ? group : rest).Add(c);
            if (weighted && group.Count > 1)
            {
                float sum = 0, cx = 0, cy = 0, w = 0, h = 0;
                foreach (var c in group)
                {
                    sum += c.Score;
                    cx += c.CenterX * c.Score;
                    cy += c.CenterY * c.Score;
                    w += c.Width * c.Score;
                    h += c.Height * c.Score;
                }
                best = new Candidate(cx / sum, cy / sum, w / sum, h / sum, best.Score);
            }
            kept.Add(best);
            left = rest;
        }
        return kept;
    }
}
