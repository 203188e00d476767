using MaskLab.Data.Layout;
using TorchSharp;

namespace MaskLab.Evaluation;

/// <summary>
/// Scores of one class. <see cref="Present"/> classes (in the truth or the predictions) are the ones the macro
/// mean counts, as scikit-learn's <c>f1_score(average="macro")</c> does when no label list is given.
/// </summary>
public readonly record struct ClassScore(int Class, double Precision, double Recall, double F1, long Support, long Predicted)
{
    public bool Present => Support > 0 || Predicted > 0;
}

/// <summary>Classification metrics over integer labels; pure functions, no I/O.</summary>
public static class Metrics
{
    /// <summary>Counts of (truth, prediction) pairs: rows are the true class, columns the predicted class.</summary>
    public static long[,] Confusion(ReadOnlySpan<int> truth, ReadOnlySpan<int> pred, int classes)
    {
        if (classes <= 0) throw new ArgumentOutOfRangeException(nameof(classes), classes, "need at least one class");
        if (truth.Length != pred.Length)
            throw new ArgumentException($"truth has {truth.Length} labels but pred has {pred.Length}");
        var cm = new long[classes, classes];
        for (var i = 0; i < truth.Length; i++)
        {
            int t = truth[i], p = pred[i];
            if ((uint)t >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(truth), t, $"truth label at index {i} is outside 0..{classes - 1}");
            if ((uint)p >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(pred), p, $"predicted label at index {i} is outside 0..{classes - 1}");
            cm[t, p]++;
        }
        return cm;
    }

    /// <summary>
    /// Precision, recall and F1 per class. An undefined ratio (no predictions, or no support) is 0, as
    /// scikit-learn's default <c>zero_division</c> makes it.
    /// </summary>
    public static ClassScore[] PerClass(long[,] cm)
    {
        var n = Side(cm);
        var scores = new ClassScore[n];
        for (var c = 0; c < n; c++)
        {
            long tp = cm[c, c], support = 0, predicted = 0;
            for (var k = 0; k < n; k++)
            {
                support += cm[c, k];
                predicted += cm[k, c];
            }
            long fp = predicted - tp, fn = support - tp;
            var precision = predicted == 0 ? 0.0 : (double)tp / predicted;
            var recall = support == 0 ? 0.0 : (double)tp / support;
            // 2tp / (2tp + fp + fn) equals 2PR / (P + R) and stays defined when P or R is.
            var f1 = tp == 0 ? 0.0 : 2.0 * tp / (2.0 * tp + fp + fn);
            scores[c] = new ClassScore(c, precision, recall, f1, support, predicted);
        }
        return scores;
    }

    /// <summary>
    /// Mean F1 over the classes that occur in the truth or the predictions; 0 when there are none. This is
    /// the competition's score (scikit-learn <c>f1_score(average="macro")</c>).
    /// </summary>
    public static double MacroF1(long[,] cm) => MacroF1(PerClass(cm));

    public static double MacroF1(IReadOnlyList<ClassScore> perClass)
    {
        double sum = 0;
        var count = 0;
        foreach (var s in perClass)
        {
            if (!s.Present) continue;
            sum += s.F1;
            count++;
        }
        return count == 0 ? 0.0 : sum / count;
    }

    public static double MacroF1(ReadOnlySpan<int> truth, ReadOnlySpan<int> pred, int classes) =>
        MacroF1(Confusion(truth, pred, classes));

    /// <summary>Share of correct predictions; 0 for an empty matrix.</summary>
    public static double Accuracy(long[,] cm)
    {
        var n = Side(cm);
        long correct = 0, total = 0;
        for (var t = 0; t < n; t++)
        for (var p = 0; p < n; p++)
        {
            total += cm[t, p];
            if (t == p) correct += cm[t, p];
        }
        return total == 0 ? 0.0 : (double)correct / total;
    }

    public static double Accuracy(ReadOnlySpan<int> truth, ReadOnlySpan<int> pred)
    {
        if (truth.Length != pred.Length)
            throw new ArgumentException($"truth has {truth.Length} labels but pred has {pred.Length}");
        if (truth.Length == 0) return 0.0;
        var correct = 0;
        for (var i = 0; i < truth.Length; i++)
            if (truth[i] == pred[i]) correct++;
        return (double)correct / truth.Length;
    }

    /// <summary>
    /// Folds a confusion matrix onto groups of classes (<paramref name="groupOf"/> maps a class to 0..groups-1):
    /// the confusion of a decoded attribute is the 18-class confusion summed over the other attributes.
    /// </summary>
    public static long[,] Fold(long[,] cm, Func<int, int> groupOf, int groups)
    {
        var n = Side(cm);
        var folded = new long[groups, groups];
        for (var t = 0; t < n; t++)
        for (var p = 0; p < n; p++)
            folded[groupOf(t), groupOf(p)] += cm[t, p];
        return folded;
    }

    /// <summary>Confusion of the mask state (3 x 3) from an 18-class task confusion.</summary>
    public static long[,] MaskConfusion(long[,] taskCm) => Fold(RequireTask(taskCm), c => (int)TaskClasses.MaskOf(c), 3);

    /// <summary>Confusion of gender (2 x 2) from an 18-class task confusion.</summary>
    public static long[,] GenderConfusion(long[,] taskCm) => Fold(RequireTask(taskCm), c => (int)TaskClasses.GenderOf(c), 2);

    /// <summary>Confusion of the age band (3 x 3) from an 18-class task confusion.</summary>
    public static long[,] AgeConfusion(long[,] taskCm) => Fold(RequireTask(taskCm), c => (int)TaskClasses.AgeOf(c), 3);

    /// <summary>Macro F1 of each decoded attribute of the 18 task classes.</summary>
    public static (double Mask, double Gender, double Age) AttributeF1(long[,] taskCm) =>
        (MacroF1(MaskConfusion(taskCm)), MacroF1(GenderConfusion(taskCm)), MacroF1(AgeConfusion(taskCm)));

    public static (double Mask, double Gender, double Age) AttributeF1(ReadOnlySpan<int> truth, ReadOnlySpan<int> pred) =>
        AttributeF1(Confusion(truth, pred, TaskClasses.Count));

    /// <summary>
    /// Everything a report shows. <paramref name="taskClasses"/> says the labels are the 18 task classes, which
    /// adds the mask, gender and age F1.
    /// </summary>
    public static EvaluationReport Evaluate(ReadOnlySpan<int> truth, ReadOnlySpan<int> pred, IReadOnlyList<string> classNames, bool taskClasses)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        if (truth.Length == 0) throw new ArgumentException("nothing to evaluate: no labels", nameof(truth));
        if (taskClasses && classNames.Count != TaskClasses.Count)
            throw new ArgumentException($"task classes need {TaskClasses.Count} class names, got {classNames.Count}", nameof(classNames));
        var cm = Confusion(truth, pred, classNames.Count);
        var perClass = PerClass(cm);
        (double Mask, double Gender, double Age)? attributes = taskClasses ? AttributeF1(cm) : null;
        return new EvaluationReport(
            MacroF1(perClass), Accuracy(cm), perClass, cm, classNames.ToArray(),
            attributes?.Mask, attributes?.Gender, attributes?.Age);
    }

    /// <summary>Index of the largest score in each row (the first one on ties).</summary>
    public static int[] Argmax(float[,] scores)
    {
        int rows = scores.GetLength(0), cols = scores.GetLength(1);
        if (cols == 0) throw new ArgumentException("scores have no columns", nameof(scores));
        var best = new int[rows];
        for (var r = 0; r < rows; r++)
        {
            var b = 0;
            for (var c = 1; c < cols; c++)
                if (scores[r, c] > scores[r, b]) b = c;
            best[r] = b;
        }
        return best;
    }

    /// <summary>Index of the largest score in each row of a (rows x classes) tensor, on any device or dtype.</summary>
    public static int[] Argmax(torch.Tensor scores)
    {
        if (scores.dim() != 2) throw new ArgumentException($"scores must be 2-D (rows x classes), got {scores.dim()}-D", nameof(scores));
        using var idx = scores.argmax(1);
        using var cpu = idx.to(torch.CPU);
        return cpu.data<long>().Select(i => (int)i).ToArray();
    }

    static int Side(long[,] cm)
    {
        ArgumentNullException.ThrowIfNull(cm);
        var n = cm.GetLength(0);
        if (cm.GetLength(1) != n) throw new ArgumentException($"confusion matrix must be square, got {n} x {cm.GetLength(1)}", nameof(cm));
        return n;
    }

    static long[,] RequireTask(long[,] cm)
    {
        if (Side(cm) != TaskClasses.Count)
            throw new ArgumentException($"attribute scores need the {TaskClasses.Count}-class task confusion, got {cm.GetLength(0)} classes", nameof(cm));
        return cm;
    }
}
