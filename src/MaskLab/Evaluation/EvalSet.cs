using MaskLab.Data;

namespace MaskLab.Evaluation;

/// <summary>Predictions for a competition eval/ folder: ensembled probabilities, the submission, and its score where answers exist.</summary>
public static class EvalSet
{
    /// <param name="FaceCrop">How the eval photos were cut, where the (first) run crops faces: fallbacks are photos without a face found.</param>
    public sealed record Result(IReadOnlyList<EvalImage> Images, int[] Answers, float[,] Probabilities, EvaluationReport? Score,
        FaceCropCounts? FaceCrop = null);

    /// <summary>
    /// Soft-votes the runs (weighted mean of probabilities) over the photos listed in info.csv, writes the
    /// submission in info.csv order, and scores it against answers.csv when that file is present.
    /// </summary>
    public static Result Predict(IReadOnlyList<TrainedRun> runs, string evalDir, string outFile, bool tta,
        IReadOnlyList<double>? weights = null, IProgress<(int Done, int Total)>? progress = null, CancellationToken ct = default,
        Vote vote = Vote.Soft, ImageCaches? caches = null)
    {
        var images = CompetitionLayout.ReadEval(evalDir);
        var samples = images.Select(i => new Sample(i.Path, 0, i.ImageId)).ToArray();
        caches ??= new ImageCaches();
        var probs = Ensemble.Combine(runs, samples, tta, weights, vote, progress, ct, caches);
        var crop = (runs.FirstOrDefault(r => r.Config.FaceCropSection.Active)?.CacheIn(caches, samples.Select(x => x.Path).ToArray(), ct).Crop as FaceCropper)?.Counts;
        var answers = Metrics.Argmax(probs);
        Submission.Write(outFile, images.Select(i => i.ImageId).ToArray(), answers);

        EvaluationReport? score = null;
        var answersFile = Path.Combine(evalDir, "answers.csv");
        if (File.Exists(answersFile)) score = Scoring.Score(outFile, answersFile);
        return new Result(images, answers, probs, score, crop);
    }
}
