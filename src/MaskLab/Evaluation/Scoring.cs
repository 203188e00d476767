using MaskLab.Data.Layout;

namespace MaskLab.Evaluation;

/// <summary>Scores a submission file against the eval truth, matching rows by ImageID.</summary>
public static class Scoring
{
    /// <summary>How many ids an error message lists.</summary>
    const int IdsShown = 5;

    /// <summary>
    /// Reads both files (<c>ImageID,ans</c>) and evaluates over the 18 task classes. Row order does not matter;
    /// an id of the truth missing from the prediction, or a predicted id the truth lacks, is a
    /// <see cref="MaskLabInputException"/> naming the count and the first ids.
    /// </summary>
    public static EvaluationReport Score(string predPath, string truthPath)
    {
        var truth = Submission.Read(truthPath, "truth file");
        if (truth.Ids.Count == 0) throw new MaskLabInputException($"truth file '{truthPath}' has no rows");
        var pred = Submission.Read(predPath, "prediction file");
        var (truthLabels, predLabels) = Align(pred.Ids, pred.Answers, truth.Ids, truth.Answers, predPath, truthPath);
        return Metrics.Evaluate(truthLabels, predLabels, TaskClasses.Names, taskClasses: true);
    }

    /// <summary>Pairs predictions with the truth by id, in truth order.</summary>
    public static (int[] Truth, int[] Pred) Align(
        IReadOnlyList<string> predIds, IReadOnlyList<int> predAnswers,
        IReadOnlyList<string> truthIds, IReadOnlyList<int> truthAnswers,
        string predName = "prediction", string truthName = "truth")
    {
        if (predIds.Count != predAnswers.Count) throw new ArgumentException($"{predIds.Count} predicted ids but {predAnswers.Count} answers");
        if (truthIds.Count != truthAnswers.Count) throw new ArgumentException($"{truthIds.Count} truth ids but {truthAnswers.Count} answers");
        var predById = new Dictionary<string, int>(predIds.Count, StringComparer.Ordinal);
        for (var i = 0; i < predIds.Count; i++) predById[predIds[i]] = predAnswers[i];
        var truthSet = new HashSet<string>(truthIds, StringComparer.Ordinal);

        var missing = truthIds.Where(id => !predById.ContainsKey(id)).ToList();
        var unknown = predIds.Where(id => !truthSet.Contains(id)).ToList();
        if (missing.Count > 0 || unknown.Count > 0)
        {
            var problems = new List<string>();
            if (missing.Count > 0)
                problems.Add($"{missing.Count} ImageID(s) of '{truthName}' are missing from it (first: {First(missing)})");
            if (unknown.Count > 0)
                problems.Add($"{unknown.Count} ImageID(s) are not in '{truthName}' (first: {First(unknown)})");
            throw new MaskLabInputException($"prediction file '{predName}' does not match the truth: {string.Join("; ", problems)}");
        }

        var truth = new int[truthIds.Count];
        var pred = new int[truthIds.Count];
        for (var i = 0; i < truthIds.Count; i++)
        {
            truth[i] = truthAnswers[i];
            pred[i] = predById[truthIds[i]];
        }
        return (truth, pred);
    }

    static string First(List<string> ids) =>
        string.Join(", ", ids.Take(IdsShown)) + (ids.Count > IdsShown ? ", ..." : "");
}
