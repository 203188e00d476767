using System.Globalization;
using MaskLab.Data.Layout;
using MaskLab.Runs;

namespace MaskLab.Evaluation;

/// <summary>
/// One likely label error: a person (or one photo of a person) whose label for <see cref="Attribute"/> the
/// out-of-fold models confidently disagree with.
/// </summary>
/// <param name="Attribute">mask (one photo), gender or age (the person's photos together), or class (data that is not the 18 task classes: one photo).</param>
/// <param name="Score">How confidently wrong the label looks, 0..1: the out-of-fold probability mass off the labelled value
/// (for gender and age, averaged over the person's photos).</param>
/// <param name="Photos">The photos the suspect label covers (full paths).</param>
/// <param name="Fix">The correction that the suggestion amounts to, where it can be written as one (task data).</param>
/// <param name="PredictedAge">For an age suspect, the person's age in years as the out-of-fold models predict it (the mean
/// over their photos), where oof.csv has it (<see cref="OofFile.PredictedAgeColumn"/>).</param>
public sealed record AuditSuspect(string Person, string Attribute, string Labelled, string Suggested, double Score,
    IReadOnlyList<string> Photos, LabelFix? Fix, double? PredictedAge = null);

/// <summary>The audit of one k-fold run: every suspect at or above the threshold, grouped by person, most confident first.</summary>
public sealed record AuditResult(IReadOnlyList<AuditSuspect> Suspects, int Photos, int People, double Threshold)
{
    public int FlaggedPhotos => Suspects.SelectMany(s => s.Photos).Distinct(StringComparer.Ordinal).Count();
}

/// <summary>The audit against a list of known wrong labels (a synthetic set's planted ones), photo by photo.</summary>
/// <param name="Planted">Wrong photos among those audited.</param>
/// <param name="Flagged">Photos the audit flagged.</param>
/// <param name="Found">Flagged photos that are wrong.</param>
/// <param name="SuggestionRight">Found photos whose suggested correction gives their true label in the flagged attribute.</param>
/// <param name="ByKind">Per kind of planted error: how many wrong photos, and how many of them were flagged.</param>
public sealed record AuditScore(int Planted, int Flagged, int Found, int SuggestionRight,
    IReadOnlyDictionary<string, (int Planted, int Found)> ByKind)
{
    public double Precision => Flagged > 0 ? (double)Found / Flagged : 0;
    public double Recall => Planted > 0 ? (double)Found / Planted : 0;
}

/// <summary>
/// Finds likely mislabeled photos from a k-fold run's out-of-fold probabilities (each photo scored by the one
/// model that never saw its person), the way one team found 69 more wrong images than the public list. On the 18
/// task classes it looks attribute by attribute, since that is how labels go wrong: a photo's mask state (a
/// swapped file), a person's gender or age (the folder name, so all their photos together).
/// </summary>
public static class LabelAudit
{
    /// <summary>Every suspect whose score is at least <paramref name="threshold"/>, most confident first.</summary>
    public static AuditResult Find(OofFile.Oof oof, double threshold)
    {
        if (!(threshold > 0 && threshold <= 1)) throw new MaskLabInputException($"audit threshold {threshold} must be above 0 and at most 1");
        int n = oof.Paths.Length, classes = oof.Probabilities.GetLength(1);
        var people = Enumerable.Range(0, n).GroupBy(i => oof.Persons[i]).ToList();
        var persons = new Person?[n];
        bool task = classes == TaskClasses.Count;
        for (int i = 0; i < n && task; i++)
        {
            task = CompetitionLayout.TryParsePersonFolder(Path.GetFileName(Path.GetDirectoryName(oof.Paths[i])) ?? "", out var p, out _);
            persons[i] = task ? p : null;
        }

        var suspects = new List<AuditSuspect>();
        if (!task)
        {
            for (int i = 0; i < n; i++)
            {
                int top = Top(oof.Probabilities, i, classes);
                double score = 1 - oof.Probabilities[i, oof.Truth[i]];
                if (score >= threshold && top != oof.Truth[i])
                    suspects.Add(new AuditSuspect(oof.Persons[i], "class", oof.Truth[i].ToString(CultureInfo.InvariantCulture),
                        top.ToString(CultureInfo.InvariantCulture), score, [oof.Paths[i]], null));
            }
            return Done(suspects, n, people.Count, threshold);
        }

        var mask = new double[n, 3];
        var gender = new double[n, 2];
        var age = new double[n, 3];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < classes; c++)
            {
                var (m, g, a) = TaskClasses.Decode(c);
                double p = oof.Probabilities[i, c];
                mask[i, (int)m] += p;
                gender[i, (int)g] += p;
                age[i, (int)a] += p;
            }

        foreach (var group in people)
        {
            var rows = group.ToArray();
            var person = persons[rows[0]]!;
            var photos = rows.Select(i => oof.Paths[i]).ToArray();

            foreach (var i in rows)
            {
                var labelled = TaskClasses.MaskOf(oof.Truth[i]);
                double score = 1 - mask[i, (int)labelled];
                var suggested = (MaskState)Top(mask, i, 3);
                if (score < threshold || suggested == labelled) continue;
                var stem = Path.GetFileNameWithoutExtension(oof.Paths[i]).ToLowerInvariant();
                suspects.Add(new AuditSuspect(person.Id, "mask", LabelFixes.MaskValue(labelled), LabelFixes.MaskValue(suggested), score,
                    [oof.Paths[i]], new LabelFix(person.Id, stem, LabelFixes.MaskValue(suggested), "audit")));
            }

            var labelledGender = TaskClasses.GenderOf(oof.Truth[rows[0]]);
            double genderScore = rows.Average(i => 1 - gender[i, (int)labelledGender]);
            if (genderScore >= threshold)
            {
                var other = labelledGender == Gender.Male ? Gender.Female : Gender.Male;
                suspects.Add(new AuditSuspect(person.Id, "gender", TaskClasses.GenderWord(labelledGender), TaskClasses.GenderWord(other),
                    genderScore, photos, new LabelFix(person.Id, LabelFix.GenderField, TaskClasses.GenderWord(other), "audit")));
            }

            var labelledBand = TaskClasses.Decode(oof.Truth[rows[0]]).Age;
            double ageScore = rows.Average(i => 1 - age[i, (int)labelledBand]);
            if (ageScore >= threshold)
            {
                var band = Enumerable.Range(0, 3).Where(b => b != (int)labelledBand).MaxBy(b => rows.Sum(i => age[i, b]));
                var suggestedAge = NearestAgeIn((AgeBand)band, person.Age);
                double? predictedAge = oof.PredictedAges is { } ages ? rows.Average(i => (double)ages[i]) : null;
                suspects.Add(new AuditSuspect(person.Id, "age", $"{person.Age} ({TaskClasses.AgeWord(labelledBand)})",
                    TaskClasses.AgeWord((AgeBand)band), ageScore, photos,
                    new LabelFix(person.Id, LabelFix.AgeField, suggestedAge.ToString(CultureInfo.InvariantCulture), "audit"), predictedAge));
            }
        }
        return Done(suspects, n, people.Count, threshold);
    }

    /// <summary>Grouped by person, the person with the most confident suspect first; within a person, most confident first.</summary>
    static AuditResult Done(List<AuditSuspect> suspects, int photos, int people, double threshold) =>
        new(suspects.GroupBy(s => s.Person)
            .OrderByDescending(g => g.Max(s => s.Score)).ThenBy(g => g.Key, StringComparer.Ordinal)
            .SelectMany(g => g.OrderByDescending(s => s.Score))
            .ToArray(), photos, people, threshold);

    static int Top(double[,] p, int row, int count)
    {
        int top = 0;
        for (int c = 1; c < count; c++) if (p[row, c] > p[row, top]) top = c;
        return top;
    }

    static int Top(float[,] p, int row, int count)
    {
        int top = 0;
        for (int c = 1; c < count; c++) if (p[row, c] > p[row, top]) top = c;
        return top;
    }

    /// <summary>The age in <paramref name="band"/> (scoring cuts) nearest to <paramref name="age"/>.</summary>
    public static int NearestAgeIn(AgeBand band, int age)
    {
        var (low, high) = band switch
        {
            AgeBand.Under30 => (CompetitionLayout.MinAge, AgeCuts.Scoring.Lower - 1),
            AgeBand.From30To59 => (AgeCuts.Scoring.Lower, AgeCuts.Scoring.Upper - 1),
            _ => (AgeCuts.Scoring.Upper, CompetitionLayout.MaxAge),
        };
        return Math.Clamp(age, low, high);
    }

    /// <summary>
    /// Scores the audit against a synthetic set's <c>train_truth.csv</c> (<c>path,given_class,true_class,...,noise</c>;
    /// wrong photos are those whose given class is not the true one). Photos are matched by their person folder and
    /// file name, so the set may have moved since it was written.
    /// </summary>
    public static AuditScore Score(AuditResult result, OofFile.Oof oof, string truthFile)
    {
        var table = CsvTable.Read(truthFile, "path", "given_class", "true_class", "noise");
        var truth = new Dictionary<string, (int Given, int True, string Kind)>(StringComparer.Ordinal);
        foreach (var row in table.Rows)
        {
            if (!int.TryParse(row.Values[1], CultureInfo.InvariantCulture, out var given) || !int.TryParse(row.Values[2], CultureInfo.InvariantCulture, out var t))
                throw new MaskLabInputException($"{truthFile} line {row.Line}: given_class and true_class must be whole numbers");
            truth[Key(row.Values[0])] = (given, t, row.Values[3]);
        }

        var audited = oof.Paths.ToDictionary(Key, p => p, StringComparer.Ordinal);
        var wrong = audited.Keys.Where(k => truth.TryGetValue(k, out var t) && t.Given != t.True).ToHashSet(StringComparer.Ordinal);
        var flagged = new Dictionary<string, AuditSuspect>(StringComparer.Ordinal);
        foreach (var s in result.Suspects)
            foreach (var p in s.Photos)
                flagged.TryAdd(Key(p), s);

        int found = 0, right = 0;
        foreach (var (key, suspect) in flagged)
        {
            if (!wrong.Contains(key)) continue;
            found++;
            if (SuggestionMatches(suspect, truth[key].True)) right++;
        }
        var byKind = wrong.GroupBy(k => truth[k].Kind.Length > 0 ? truth[k].Kind : "other")
            .ToDictionary(g => g.Key, g => (g.Count(), g.Count(flagged.ContainsKey)));
        return new AuditScore(wrong.Count, flagged.Count, found, right, byKind);
    }

    static bool SuggestionMatches(AuditSuspect s, int trueClass)
    {
        if (s.Attribute == "class") return s.Suggested == trueClass.ToString(CultureInfo.InvariantCulture);
        var (m, g, a) = TaskClasses.Decode(trueClass);
        return s.Attribute switch
        {
            "mask" => s.Suggested == LabelFixes.MaskValue(m),
            "gender" => s.Suggested == TaskClasses.GenderWord(g),
            _ => s.Suggested == TaskClasses.AgeWord(a),
        };
    }

    /// <summary>A photo's person folder and file name: the same in a set's truth file and wherever the set was read from.</summary>
    static string Key(string path)
    {
        var p = path.Replace('\\', '/');
        var file = Path.GetFileName(p);
        var folder = Path.GetFileName(Path.GetDirectoryName(p)) ?? "";
        return folder + "/" + file;
    }
}
