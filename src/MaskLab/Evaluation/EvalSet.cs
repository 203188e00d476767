using MaskLab.Data.Faces;
using MaskLab.Data.Layout;
using MaskLab.Data.Loading;

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
        CheckAnswers(evalDir, images);
        var samples = images.Select(i => new Sample(i.Path, 0, i.ImageId)).ToArray();
        caches ??= new ImageCaches();
        var probs = Ensemble.Combine(runs, samples, tta, weights, vote, progress, ct, caches);
        var paths = samples.Select(x => x.Path).ToArray();
        // The cache may also hold the training photos (a run predicting right after training): count the eval ones.
        var crop = (runs.FirstOrDefault(r => r.Config.FaceCropSection.Active)?.CacheIn(caches, paths, ct).Crop as FaceCropper)?.CountsOf(paths);
        var answers = Metrics.Argmax(probs);
        Submission.Write(outFile, images.Select(i => i.ImageId).ToArray(), answers);

        EvaluationReport? score = null;
        var answersFile = AnswersFile(evalDir);
        if (File.Exists(answersFile)) score = Scoring.Score(outFile, answersFile);
        return new Result(images, answers, probs, score, crop);
    }

    /// <summary>The eval truth beside info.csv, when the data has it (the synthetic set does).</summary>
    public static string AnswersFile(string evalDir) => Path.Combine(evalDir, "answers.csv");

    /// <summary>
    /// Where answers.csv exists, checks that it is readable and lists the images info.csv lists, so that a run learns
    /// before training, not after, that its eval score cannot be computed.
    /// </summary>
    public static void CheckAnswers(string evalDir, IReadOnlyList<EvalImage> images)
    {
        var answersFile = AnswersFile(evalDir);
        if (!File.Exists(answersFile)) return;
        var truth = Submission.Read(answersFile, "truth file");
        var listed = images.Select(i => i.ImageId).ToHashSet(StringComparer.Ordinal);
        var known = truth.Ids.ToHashSet(StringComparer.Ordinal);
        var notListed = truth.Ids.Where(id => !listed.Contains(id)).ToList();
        var unanswered = images.Select(i => i.ImageId).Where(id => !known.Contains(id)).ToList();
        if (notListed.Count == 0 && unanswered.Count == 0) return;
        var problems = new List<string>();
        if (notListed.Count > 0) problems.Add($"{notListed.Count} of its ImageIDs are not in info.csv (first: {notListed[0]})");
        if (unanswered.Count > 0) problems.Add($"{unanswered.Count} ImageIDs of info.csv have no answer (first: {unanswered[0]})");
        throw new MaskLabInputException($"'{answersFile}' does not match info.csv: {string.Join("; ", problems)}; the eval score needs both to list the same images: fix one, or remove answers.csv to predict without a score");
    }
}
