namespace MaskLab.Synthetic;

/// <summary>
/// How the planted wrong labels go wrong. competition: as the competition's did, a person's gender folder, an age in
/// the neighbouring band, or a person's incorrect-mask and no-mask photos swapped; uniform: the literature's synthetic
/// noise (Northcutt et al., 2021), any photo showing any other class, here a stranger's photo filed in a person's folder.
/// </summary>
public enum LabelNoiseKind { Competition, Uniform }

/// <summary>
/// What the look-alike set holds. Defaults follow the real competition: 2,700 train and 1,800 eval people,
/// 384 x 512 portraits, about 1.1 % wrong train labels. Every value takes part in the set's identity: a folder
/// made with other options is never reused.
/// </summary>
/// <param name="LabelNoise">Fraction of train photos whose label is wrong, of the kind <paramref name="NoiseKind"/> says.</param>
/// <param name="JpegQuality">Quality of the JPEG files, 1..100.</param>
/// <param name="AppleDoubleJunk">Leave a few macOS <c>._mask1.jpg</c> files in some train folders, as real copies do.</param>
public sealed record SynthOptions(
    int People = 2700,
    int EvalPeople = 1800,
    int Width = 384,
    int Height = 512,
    int Seed = 42,
    double LabelNoise = 0.011,
    int JpegQuality = 90,
    bool AppleDoubleJunk = true,
    // Left out of the set's marker file when it is the competition kind, so that sets made before the uniform kind
    // existed keep their marker byte for byte; written by name otherwise.
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    [property: System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<LabelNoiseKind>))]
    LabelNoiseKind NoiseKind = LabelNoiseKind.Competition)
{
    /// <summary>Largest side accepted; far beyond anything a classifier here reads.</summary>
    public const int MaxSide = 4096;

    /// <summary>People above this would need ids longer than the six digits the layout uses.</summary>
    public const int MaxPeople = 400_000;

    /// <summary>Throws <see cref="MaskLabInputException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (People < 0 || People > MaxPeople) throw new MaskLabInputException($"people {People} must be 0..{MaxPeople}");
        if (EvalPeople < 0 || EvalPeople > MaxPeople) throw new MaskLabInputException($"eval people {EvalPeople} must be 0..{MaxPeople}");
        if (Width < 8 || Height < 8 || Width > MaxSide || Height > MaxSide)
            throw new MaskLabInputException($"size {Width}x{Height} must be 8..{MaxSide} on each side");
        if (!(LabelNoise >= 0 && LabelNoise <= 0.5)) throw new MaskLabInputException($"label noise {LabelNoise} must be 0..0.5");
        if (JpegQuality < 1 || JpegQuality > 100) throw new MaskLabInputException($"JPEG quality {JpegQuality} must be 1..100");
    }
}

/// <summary>What <see cref="SyntheticGenerator.Generate"/> did.</summary>
/// <param name="Reused">True when the folder already held this exact set and nothing was drawn.</param>
/// <param name="NoisyPhotos">Train photos whose given label differs from the truth (listed in <c>train_truth.csv</c>).</param>
public sealed record SynthReport(
    string OutDir,
    int People,
    int EvalPeople,
    int TrainPhotos,
    int EvalPhotos,
    int NoisyPhotos,
    TimeSpan Elapsed,
    bool Reused)
{
    public int Photos => TrainPhotos + EvalPhotos;

    public double PhotosPerSecond => Elapsed.TotalSeconds > 0 ? Photos / Elapsed.TotalSeconds : 0;
}
