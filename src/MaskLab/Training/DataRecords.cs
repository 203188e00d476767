using System.Globalization;
using System.Text.Json.Nodes;
using MaskLab.Data.Faces;
using MaskLab.Data.Layout;

namespace MaskLab.Training;

/// <summary>How a run's photos were cut around their faces: the setting, the detector, and how many photos fell back.</summary>
/// <param name="Photos">Photos decoded with the crop (train, validation and pseudo-labelled ones).</param>
/// <param name="Fallbacks">Photos where no face was found: cut with the centred fallback instead.</param>
internal sealed record FaceCropRecord(FaceCropSpec Spec, string DetectorId, string ModelSha256, string BoxFile, int Photos, int Faces, int Fallbacks)
{
    public static FaceCropRecord Of(FaceCropSpec spec, FaceCropSource faces)
    {
        var counts = faces.Cropper.Counts;
        return new FaceCropRecord(spec, faces.DetectorId, BlazeFaceDetector.ModelSha256, faces.BoxFile,
            counts.Faces + counts.Fallbacks, counts.Faces, counts.Fallbacks);
    }

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"face crop: {Faces:N0} of {Photos:N0} photos cut around a face, {Fallbacks:N0} centred fallback(s) where no face was found");

    public JsonObject ToJson() => new()
    {
        ["mode"] = "detect",
        ["margin"] = Spec.Options.Margin,
        ["fallback_fraction"] = Spec.Options.FallbackFraction,
        ["detector"] = DetectorId,
        ["model_sha256"] = ModelSha256,
        ["box_file"] = BoxFile,
        ["photos"] = Photos,
        ["faces"] = Faces,
        ["fallbacks"] = Fallbacks,
    };
}

/// <summary>The label corrections of a run: where they came from, those applied and those skipped.</summary>
internal sealed record LabelFixRecord(string Source, IReadOnlyList<AppliedLabelFix> Applied, IReadOnlyList<(LabelFix Fix, string Why)> Skipped)
{
    /// <summary>Photos whose label changed or that were left out.</summary>
    public int PhotosChanged => Applied.Sum(a => a.Photos);

    /// <summary>label_fixes.csv: one row per fix, applied or skipped, with the old and new value or the reason.</summary>
    public void Write(string file) => CsvText.WriteFile(file, ["person", "field", "value", "status", "old", "new", "photos", "source"],
        Applied.Select(a => (IReadOnlyList<string>)[a.Fix.Person, a.Fix.Field, a.Fix.Value, "applied", a.Old, a.New,
                a.Photos.ToString(CultureInfo.InvariantCulture), a.Fix.Source])
            .Concat(Skipped.Select(s => (IReadOnlyList<string>)[s.Fix.Person, s.Fix.Field, s.Fix.Value, "skipped: " + s.Why, "", "", "0", s.Fix.Source])));

    public JsonObject ToJson() => new()
    {
        ["source"] = Source,
        ["sha256"] = Source == LabelFixes.Builtin ? Sha256(LabelFixes.BuiltinText()) : File.Exists(Source) ? Sha256(File.ReadAllText(Source)) : null,
        ["applied"] = Applied.Count,
        ["skipped"] = Skipped.Count,
        ["photos_changed"] = PhotosChanged,
    };

    static string Sha256(string text) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
}

/// <summary>Pseudo labels of a run: their source, threshold, how many eval photos passed it and, where the answers are known, how many are right.</summary>
/// <param name="Candidates">Eval photos with probabilities.</param>
/// <param name="Accuracy">Share of the pseudo labels equal to eval/answers.csv; null where the data has no answers.</param>
internal sealed record PseudoLabelRecord(string Source, double Threshold, int Candidates, int Selected, double? Accuracy)
{
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"pseudo labels from {Source}: {Selected:N0} of {Candidates:N0} eval photos at confidence >= {Threshold:0.###}{(Accuracy is { } a ? $", {a:P1} of them right (eval/answers.csv)" : "")}");

    public JsonObject ToJson() => new()
    {
        ["source"] = Source,
        ["threshold"] = Threshold,
        ["candidates"] = Candidates,
        ["selected"] = Selected,
        ["accuracy"] = Accuracy,
    };
}
