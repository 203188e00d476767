using System.Globalization;
using MaskLab.Data.Layout;

namespace MaskLab.Runs;

/// <summary>
/// oof.csv of a k-fold root: path, person, truth, fold, then p0..p(C-1), one row per training photo in data order,
/// the probabilities from the one fold model that never saw that person; then, where the models have an age output
/// in years (the ordinal age head), predicted_age: the same model's expected age.
/// </summary>
public static class OofFile
{
    /// <summary>Out-of-fold probabilities read back from oof.csv: rows in file order.</summary>
    public sealed record Oof(string[] Paths, string[] Persons, int[] Truth, int[] Fold, float[,] Probabilities)
    {
        /// <summary>Each photo's predicted age in years, where oof.csv has a predicted_age column; else null.</summary>
        public float[]? PredictedAges { get; init; }
    }

    /// <summary>The column of the predicted age in years.</summary>
    public const string PredictedAgeColumn = "predicted_age";

    public static void Write(string file, LabeledSet set, int[] foldOf, float[,] probs, float[]? ages = null)
    {
        int classes = probs.GetLength(1);
        string[] header = ["path", "person", "truth", "fold", .. Enumerable.Range(0, classes).Select(c => $"p{c}"), .. ages is null ? [] : new[] { PredictedAgeColumn }];
        CsvText.WriteFile(file, header, set.Samples.Select((s, i) =>
        {
            var row = new string[header.Length];
            if (ages is not null) row[4 + classes] = ages[i].ToString("0.###", CultureInfo.InvariantCulture);
            row[0] = s.Path;
            row[1] = s.Group;
            row[2] = s.Label.ToString(CultureInfo.InvariantCulture);
            row[3] = foldOf[i].ToString(CultureInfo.InvariantCulture);
            for (int c = 0; c < classes; c++) row[4 + c] = probs[i, c].ToString("R", CultureInfo.InvariantCulture);
            return (IReadOnlyList<string>)row;
        }));
    }

    public static Oof Read(string file)
    {
        if (!File.Exists(file)) throw new MaskLabInputException($"'{file}' does not exist (a k-fold run writes oof.csv once all folds have finished)");
        var header = CsvTable.Header(file);
        int classes = header.Count(h => h.Length > 1 && h[0] == 'p' && char.IsDigit(h[1]));
        if (classes == 0) throw new MaskLabInputException($"'{file}' is not an oof.csv (expected path,person,truth,fold,p0..)");
        bool hasAges = header.Contains(PredictedAgeColumn, StringComparer.Ordinal);
        var table = CsvTable.Read(file, ["path", "person", "truth", "fold", .. Enumerable.Range(0, classes).Select(c => $"p{c}"),
            .. hasAges ? new[] { PredictedAgeColumn } : []]);
        int n = table.Rows.Count;
        var paths = new string[n]; var persons = new string[n]; var truth = new int[n]; var fold = new int[n];
        var probs = new float[n, classes];
        var ages = hasAges ? new float[n] : null;
        for (int r = 0; r < n; r++)
        {
            var row = table.Rows[r].Values;
            try
            {
                paths[r] = row[0]; persons[r] = row[1];
                truth[r] = int.Parse(row[2], CultureInfo.InvariantCulture);
                fold[r] = int.Parse(row[3], CultureInfo.InvariantCulture);
                for (int c = 0; c < classes; c++) probs[r, c] = float.Parse(row[4 + c], CultureInfo.InvariantCulture);
                if (ages is not null) ages[r] = float.Parse(row[4 + classes], CultureInfo.InvariantCulture);
            }
            catch (FormatException)
            {
                throw new MaskLabInputException($"'{file}' line {table.Rows[r].Line} is not a valid oof row");
            }
        }
        return new Oof(paths, persons, truth, fold, probs) { PredictedAges = ages };
    }
}
