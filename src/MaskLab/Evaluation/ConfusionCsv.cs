using System.Globalization;

namespace MaskLab.Evaluation;

/// <summary>
/// The confusion matrix as CSV: a header of predicted class names after a <c>truth</c> column, then one row per
/// true class starting with its name.
/// </summary>
public static class ConfusionCsv
{
    public const string TruthColumn = "truth";

    public static void Write(string path, EvaluationReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var n = report.ClassCount;
        CsvText.WriteFile(path, [TruthColumn, .. report.ClassNames.Take(n)], Enumerable.Range(0, n).Select(t =>
            new[] { report.ClassNames[t] }.Concat(Enumerable.Range(0, n).Select(p => report.Confusion[t, p].ToString(CultureInfo.InvariantCulture))).ToArray()));
    }

    /// <summary>The matrix and class names of a file written by <see cref="Write"/>; (null, []) when it does not exist.</summary>
    public static (long[,]? Matrix, IReadOnlyList<string> Names) Read(string file)
    {
        if (!File.Exists(file)) return (null, []);
        var table = CsvTable.ReadAll(file);
        var names = table.Columns.Skip(1).ToArray();
        var cm = new long[names.Length, names.Length];
        try
        {
            for (var t = 0; t < Math.Min(names.Length, table.Rows.Count); t++)
                for (var p = 0; p < names.Length; p++) cm[t, p] = long.Parse(table.Rows[t].Values[p + 1], CultureInfo.InvariantCulture);
        }
        catch (FormatException e)
        {
            throw new MaskLabInputException($"{file} is not a confusion matrix CSV: {e.Message.ReplaceLineEndings(" ")}");
        }
        return (cm, names);
    }
}
