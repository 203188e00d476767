using MaskLab.Runs;

namespace MaskLab.Evaluation;

/// <summary>
/// Picks ensemble weights on out-of-fold probabilities: every run must be a k-fold run over the same photos with the
/// same folds (same data, seed and K), so each photo's probabilities all come from models that never saw its person
/// and the chosen weights are not fitted to training data.
/// </summary>
public static class OofBlend
{
    public sealed record Result(IReadOnlyList<string> Runs, double[] RunMacroF1, double[] Weights, double BlendMacroF1, Vote Vote);

    /// <summary>
    /// Reads each run's oof.csv, checks that the rows and folds agree, and searches the weight simplex on a grid of
    /// <paramref name="step"/> (every combination for up to 4 runs, coordinate ascent beyond) for the best OOF macro F1;
    /// ties keep the most even weights.
    /// </summary>
    public static Result Fit(IReadOnlyList<string> runDirs, double step = 0.1, Vote vote = Vote.Soft)
    {
        if (runDirs.Count == 0) throw new MaskLabInputException("no runs to blend");
        if (!(step > 0 && step <= 1)) throw new MaskLabInputException($"step {step} must be in (0, 1]");
        var oofs = runDirs.Select(d => OofFile.Read(new RunDirectory(d).OofFile)).ToArray();
        var first = oofs[0];
        for (int k = 1; k < oofs.Length; k++)
        {
            var o = oofs[k];
            if (!o.Paths.SequenceEqual(first.Paths) || !o.Fold.SequenceEqual(first.Fold))
                throw new MaskLabInputException(
                    $"'{runDirs[k]}' was not trained on the same photos and folds as '{runDirs[0]}' (use the same data, seed and folds)");
        }
        var probs = oofs.Select(o => o.Probabilities).ToArray();
        var truth = first.Truth;
        int classes = first.Probabilities.GetLength(1);
        double Score(double[] w) => Metrics.MacroF1(truth, Metrics.Argmax(Ensemble.Combine(probs, w, vote)), classes);

        var runF1 = probs.Select(p => Metrics.MacroF1(truth, Metrics.Argmax(p), classes)).ToArray();
        int units = Math.Max(1, (int)Math.Round(1 / step));
        double[] best = Enumerable.Repeat(1.0 / probs.Length, probs.Length).ToArray();
        double bestScore = Score(best);
        if (probs.Length > 1 && probs.Length <= 4)
        {
            foreach (var combo in Compositions(units, probs.Length))
            {
                var w = combo.Select(u => (double)u / units).ToArray();
                double s = Score(w);
                if (s > bestScore + 1e-12 || (Math.Abs(s - bestScore) <= 1e-12 && Spread(w) < Spread(best)))
                    (best, bestScore) = (w, s);
            }
        }
        else if (probs.Length > 4)
        {
            for (int round = 0; round < 3; round++)
                for (int k = 0; k < probs.Length; k++)
                    for (int u = 0; u <= units; u++)
                    {
                        var w = (double[])best.Clone();
                        w[k] = (double)u / units;
                        if (w.Sum() <= 0) continue;
                        double s = Score(w);
                        if (s > bestScore + 1e-12) (best, bestScore) = (w, s);
                    }
            double sum = best.Sum();
            best = best.Select(w => w / sum).ToArray();
        }
        return new Result(runDirs, runF1, best, bestScore, vote);
    }

    static double Spread(double[] w) => w.Max() - w.Min();

    /// <summary>All ways to write <paramref name="total"/> as an ordered sum of <paramref name="parts"/> non-negative integers, none all-zero.</summary>
    static IEnumerable<int[]> Compositions(int total, int parts)
    {
        var current = new int[parts];
        IEnumerable<int[]> Fill(int index, int left)
        {
            if (index == parts - 1)
            {
                current[index] = left;
                yield return (int[])current.Clone();
                yield break;
            }
            for (int u = 0; u <= left; u++)
            {
                current[index] = u;
                foreach (var c in Fill(index + 1, left - u)) yield return c;
            }
        }
        return Fill(0, total);
    }
}
