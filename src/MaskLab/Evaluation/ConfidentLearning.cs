using System.Globalization;
using MaskLab.Runs;

namespace MaskLab.Evaluation;

/// <summary>
/// How <c>masklab audit</c> finds label errors: attribute (MaskLab's rule: a photo's mask state, a person's gender or
/// age band, flagged where the out-of-fold probability off the label reaches the threshold) or confident (confident
/// learning over the classes, photo by photo: <see cref="ConfidentLearning"/>).
/// </summary>
public enum AuditMethod { Attribute, Confident }

/// <summary>
/// Confident learning (Northcutt, Jiang and Chuang, JAIR 2021; cleanlab's <c>find_label_issues</c> with
/// <c>filter_by="prune_by_noise_rate"</c>) on out-of-fold probabilities, photo by photo over every class: the field's
/// anchor, selectable beside MaskLab's person-and-attribute audit so both run on the same oof.csv.
/// </summary>
/// <remarks>
/// Each class j gets a threshold t_j, the mean probability of j over the photos labelled j (the models' own
/// self-confidence there). A photo labelled i counts towards the confident joint at (i, j) where j is its most probable
/// class among those whose probability reaches their threshold. The joint is calibrated so each row sums to the number
/// of photos labelled i; for each off-diagonal cell (i, j) that many photos labelled i, those with the largest margin
/// p(j) - p(i), are the label issues, each suggested as j.
/// </remarks>
public static class ConfidentLearning
{
    /// <summary>The label issues of <paramref name="oof"/>, as photo-level suspects scored by their margin (most confident first).</summary>
    public static AuditResult Find(OofFile.Oof oof)
    {
        ArgumentNullException.ThrowIfNull(oof);
        int n = oof.Paths.Length, classes = oof.Probabilities.GetLength(1);
        var p = oof.Probabilities;
        var thresholds = Thresholds(p, oof.Truth, classes);

        // The confident joint: counts, and the column each photo falls in (-1: no class reaches its threshold).
        var joint = new long[classes, classes];
        var column = new int[n];
        for (int x = 0; x < n; x++)
        {
            int best = -1;
            for (int j = 0; j < classes; j++)
                if (p[x, j] >= thresholds[j] && (best < 0 || p[x, j] > p[x, best])) best = j;
            column[x] = best;
            if (best >= 0) joint[oof.Truth[x], best]++;
        }

        var labelled = new long[classes];
        foreach (var t in oof.Truth) labelled[t]++;
        var suspects = new List<AuditSuspect>();
        for (int i = 0; i < classes; i++)
        {
            long rowSum = 0;
            for (int j = 0; j < classes; j++) rowSum += joint[i, j];
            if (rowSum == 0) continue;
            for (int j = 0; j < classes; j++)
            {
                if (j == i || joint[i, j] == 0) continue;
                int prune = (int)Math.Round((double)joint[i, j] * labelled[i] / rowSum);
                var candidates = Enumerable.Range(0, n).Where(x => oof.Truth[x] == i)
                    .Select(x => (Photo: x, Margin: (double)p[x, j] - p[x, i]))
                    .OrderByDescending(c => c.Margin).ThenBy(c => oof.Paths[c.Photo], StringComparer.Ordinal)
                    .Take(prune);
                foreach (var (x, margin) in candidates)
                    suspects.Add(new AuditSuspect(oof.Persons[x], "class", i.ToString(CultureInfo.InvariantCulture),
                        j.ToString(CultureInfo.InvariantCulture), margin, [oof.Paths[x]], null));
            }
        }
        // A photo picked for two columns of its row is one issue: keep its largest margin.
        var distinct = suspects.GroupBy(s => s.Photos[0], StringComparer.Ordinal).Select(g => g.MaxBy(s => s.Score)!)
            .OrderByDescending(s => s.Score).ThenBy(s => s.Photos[0], StringComparer.Ordinal).ToArray();
        int people = oof.Persons.Distinct(StringComparer.Ordinal).Count();
        return new AuditResult(distinct, n, people, double.NaN);
    }

    /// <summary>Per class, the mean out-of-fold probability of that class over the photos labelled with it (1 where none is).</summary>
    public static double[] Thresholds(float[,] probabilities, int[] truth, int classes)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(truth);
        var sum = new double[classes];
        var count = new int[classes];
        for (int x = 0; x < truth.Length; x++)
        {
            sum[truth[x]] += probabilities[x, truth[x]];
            count[truth[x]]++;
        }
        return Enumerable.Range(0, classes).Select(j => count[j] > 0 ? sum[j] / count[j] : 1.0).ToArray();
    }
}
