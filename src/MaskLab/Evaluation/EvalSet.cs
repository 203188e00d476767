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
        IReadOnlyList<double>? weights = null, IProgress<(int Done, int Total)>? progress = null, CancellationToken ct = default)
    {
        var images = CompetitionLayout.ReadEval(evalDir);
        var samples = images.Select(i => new Sample(i.Path, 0, i.ImageId)).ToArray();
        var probs = Ensemble.SoftVote(runs, samples, tta, weights, progress, ct);
        var answers = Metrics.Argmax(probs);
        Submission.Write(outFile, images.Select(i => i.ImageId).ToArray(), answers);

        EvaluationReport? score = null;
        var answersFile = Path.Combine(evalDir, "answers.csv");
        if (File.Exists(answersFile)) score = Scoring.Score(outFile, answersFile);
        return new Result(images, answers, probs, score);
    }
}

/// <summary>Combines several trained runs' probabilities.</summary>
public static class Ensemble
{
    public static float[,] SoftVote(IReadOnlyList<TrainedRun> runs, IReadOnlyList<Sample> samples, bool tta,
        IReadOnlyList<double>? weights = null, IProgress<(int Done, int Total)>? progress = null, CancellationToken ct = default)
    {
        if (runs.Count == 0) throw new ArgumentException("no runs to ensemble");
        if (weights is not null && weights.Count != runs.Count)
            throw new MaskLabInputException($"{weights.Count} weights given for {runs.Count} runs");
        int classes = runs[0].Summary.Classes;
        foreach (var r in runs)
            if (r.Summary.Classes != classes)
                throw new MaskLabInputException($"run '{r.Directory.Path}' has {r.Summary.Classes} classes, the first run has {classes}");

        var total = new float[samples.Count, classes];
        double weightSum = 0;
        int batchesPerRun = (samples.Count + Training.Trainer.EvalBatchSize - 1) / Training.Trainer.EvalBatchSize, done = 0;
        for (int k = 0; k < runs.Count; k++)
        {
            var run = runs[k];
            double w = weights?[k] ?? 1.0;
            var size = run.Config.Size;
            var cache = new ImageCache(size.Width, size.Height);
            var probs = run.Probabilities(samples, cache, tta, _ => progress?.Report((++done, batchesPerRun * runs.Count)), ct);
            for (int i = 0; i < samples.Count; i++)
                for (int c = 0; c < classes; c++)
                    total[i, c] += (float)(w * probs[i, c]);
            weightSum += w;
        }
        for (int i = 0; i < samples.Count; i++)
            for (int c = 0; c < classes; c++)
                total[i, c] /= (float)weightSum;
        return total;
    }
}
