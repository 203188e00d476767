using MaskLab.Data.Layout;
using MaskLab.Data.Loading;

namespace MaskLab.Evaluation;

/// <summary>Combines several trained runs' probabilities.</summary>
public static class Ensemble
{
    /// <summary>Each run's probabilities over the samples (flip-averaged with <paramref name="tta"/>), combined by <see cref="Combine(IReadOnlyList{float[,]}, IReadOnlyList{double}?, Vote)"/>.</summary>
    public static float[,] Combine(IReadOnlyList<TrainedRun> runs, IReadOnlyList<Sample> samples, bool tta,
        IReadOnlyList<double>? weights, Vote vote, IProgress<(int Done, int Total)>? progress = null, CancellationToken ct = default,
        ImageCaches? caches = null)
    {
        if (runs.Count == 0) throw new ArgumentException("no runs to ensemble");
        if (weights is not null && weights.Count != runs.Count)
            throw new MaskLabInputException($"{weights.Count} weights given for {runs.Count} runs");
        int classes = runs[0].Classes;
        foreach (var r in runs)
            if (r.Classes != classes)
                throw new MaskLabInputException($"run '{r.Directory.Path}' has {r.Classes} classes, the first run has {classes}");

        int batchesPerRun = (samples.Count + Inference.BatchSize - 1) / Inference.BatchSize, done = 0;
        // The folds of a k-fold run share one input size and crop: decode the photos once for all of them.
        caches ??= new ImageCaches();
        var paths = samples.Select(x => x.Path).ToArray();
        var each = new List<float[,]>();
        foreach (var run in runs)
            each.Add(run.Probabilities(samples, run.CacheIn(caches, paths, ct), tta, _ => progress?.Report((++done, batchesPerRun * runs.Count)), ct));
        return Combine(each, weights, vote);
    }

    /// <summary>
    /// Soft voting: the weighted mean of the probabilities. Hard voting: each model gives its weight to its top class,
    /// and the result is the weighted vote share per class, with the soft mean added at a tiny scale so that a tie
    /// goes to the class the models are together most sure of.
    /// </summary>
    public static float[,] Combine(IReadOnlyList<float[,]> probs, IReadOnlyList<double>? weights, Vote vote)
    {
        if (probs.Count == 0) throw new ArgumentException("no probabilities to combine");
        if (weights is not null && weights.Count != probs.Count)
            throw new MaskLabInputException($"{weights.Count} weights given for {probs.Count} runs");
        int rows = probs[0].GetLength(0), classes = probs[0].GetLength(1);
        double weightSum = weights?.Sum() ?? probs.Count;
        if (!(weightSum > 0)) throw new MaskLabInputException("the ensemble weights sum to zero");
        var soft = new double[rows, classes];
        var votes = new double[rows, classes];
        for (int k = 0; k < probs.Count; k++)
        {
            var p = probs[k];
            if (p.GetLength(0) != rows || p.GetLength(1) != classes) throw new ArgumentException("probability tables differ in shape");
            double w = weights?[k] ?? 1.0;
            for (int i = 0; i < rows; i++)
            {
                int top = 0;
                for (int c = 0; c < classes; c++)
                {
                    soft[i, c] += w * p[i, c];
                    if (p[i, c] > p[i, top]) top = c;
                }
                votes[i, top] += w;
            }
        }
        var result = new float[rows, classes];
        for (int i = 0; i < rows; i++)
            for (int c = 0; c < classes; c++)
                result[i, c] = (float)(vote == Vote.Soft ? soft[i, c] / weightSum
                    : (votes[i, c] + 1e-3 * soft[i, c]) / (weightSum * (1 + 1e-3)));
        return result;
    }
}

public enum Vote { Soft, Hard }
