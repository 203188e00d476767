using MaskLab.Data;

namespace MaskLab.Evaluation;

/// <summary>Predictions for a competition eval/ folder: ensembled probabilities, the submission, and its score where answers exist.</summary>
public static class EvalSet
{
    public sealed record Result(IReadOnlyList<EvalImage> Images, int[] Answers, float[,] Probabilities, EvaluationReport? Score);

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
        var probs = Ensemble.Combine(runs, samples, tta, weights, vote, progress, ct, caches);
        var answers = Metrics.Argmax(probs);
        Submission.Write(outFile, images.Select(i => i.ImageId).ToArray(), answers);

        EvaluationReport? score = null;
        var answersFile = Path.Combine(evalDir, "answers.csv");
        if (File.Exists(answersFile)) score = Scoring.Score(outFile, answersFile);
        return new Result(images, answers, probs, score);
    }
}
