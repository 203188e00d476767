using MaskLab.Data.Layout;
using MaskLab.Evaluation;
using MaskLab.Runs;

namespace MaskLab.Training;

/// <summary>
/// Pseudo-labelling: eval photos that a trained model or ensemble is confident about join the training photos with
/// the class it predicted. They are never validated on (validation stays labelled photos of held-out people), and
/// where the data has eval/answers.csv the share of them that is right is measured.
/// </summary>
internal static class PseudoLabels
{
    /// <summary>
    /// The eval photos of <paramref name="evalDir"/> whose top probability from <paramref name="spec"/>'s source is at
    /// least its threshold, as samples labelled with that class (group <c>eval:&lt;ImageID&gt;</c>, so no split ever
    /// mistakes one for a person).
    /// </summary>
    /// <param name="spec">Source: a run directory (the eval photos are predicted with it; a k-fold run's folds are
    /// soft-voted), or a probability file (<c>ImageID,p0..</c>, as <c>predict --probs</c> writes).</param>
    public static (IReadOnlyList<Sample> Samples, PseudoLabelRecord Record) Select(PseudoSpec spec, string? evalDir, int classes,
        ITrainingObserver observer, CancellationToken ct)
    {
        if (evalDir is null)
            throw new MaskLabInputException($"pseudo_labels '{spec.Source}' needs eval photos to label, and the data has no eval/ folder");
        if (!Directory.Exists(spec.Source) && !File.Exists(spec.Source))
            throw new MaskLabInputException($"pseudo_labels '{spec.Source}' is neither a run directory nor a probability file");
        var images = CompetitionLayout.ReadEval(evalDir);
        var probs = Directory.Exists(spec.Source) ? FromRun(spec.Source, images, observer, ct) : FromFile(spec.Source, images);
        if (probs.GetLength(1) != classes)
            throw new MaskLabInputException($"pseudo_labels '{spec.Source}' has {probs.GetLength(1)} classes, the data {classes}");

        var answers = AnswersOf(evalDir);
        var samples = new List<Sample>();
        int right = 0, known = 0;
        for (int i = 0; i < images.Count; i++)
        {
            int top = 0;
            for (int c = 1; c < classes; c++) if (probs[i, c] > probs[i, top]) top = c;
            if (probs[i, top] < spec.Threshold) continue;
            samples.Add(new Sample(images[i].Path, top, "eval:" + images[i].ImageId));
            if (answers is not null && answers.TryGetValue(images[i].ImageId, out var truth))
            {
                known++;
                if (truth == top) right++;
            }
        }
        double? accuracy = answers is null || known == 0 ? null : (double)right / known;
        return (samples, new PseudoLabelRecord(spec.Source, spec.Threshold, images.Count, samples.Count, accuracy));
    }

    /// <summary>The probabilities of a probability file, in info.csv order; every eval photo must have a row.</summary>
    static float[,] FromFile(string file, IReadOnlyList<EvalImage> images)
    {
        var table = EvalProbabilities.Read(file);
        var row = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int r = 0; r < table.ImageIds.Length; r++)
            if (!row.TryAdd(table.ImageIds[r], r)) throw new MaskLabInputException($"'{file}' lists ImageID {table.ImageIds[r]} twice");
        var missing = images.Where(i => !row.ContainsKey(i.ImageId)).ToArray();
        if (missing.Length > 0)
            throw new MaskLabInputException($"'{file}' has no probabilities for {missing.Length} eval photo(s), first {missing[0].ImageId}: it was made for other eval data");
        var probs = new float[images.Count, table.Classes];
        for (int i = 0; i < images.Count; i++)
            for (int c = 0; c < table.Classes; c++) probs[i, c] = table.Probabilities[row[images[i].ImageId], c];
        return probs;
    }

    /// <summary>The eval photos predicted by a run (a k-fold run's folds soft-voted), each run reading them as it was trained to.</summary>
    static float[,] FromRun(string runDir, IReadOnlyList<EvalImage> images, ITrainingObserver observer, CancellationToken ct)
    {
        using var ensemble = TrainedEnsemble.Load([runDir]);
        observer.Stage($"pseudo labels: predicting {images.Count:N0} eval photos with {ensemble.Runs.Count} model(s) of {runDir}");
        var samples = images.Select(i => new Sample(i.Path, 0, i.ImageId)).ToArray();
        return Ensemble.Combine(ensemble.Runs, samples, tta: false, weights: null, Vote.Soft,
            new SyncProgress<(int Done, int Total)>(p => observer.Progress("predicting eval photos", p.Done, p.Total)), ct);
    }

    static Dictionary<string, int>? AnswersOf(string evalDir)
    {
        var file = Path.Combine(evalDir, "answers.csv");
        if (!File.Exists(file)) return null;
        var (ids, answers) = Submission.Read(file, "answers");
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < ids.Count; i++) map[ids[i]] = answers[i];
        return map;
    }
}
