using System.Globalization;

namespace MaskLab.Evaluation;

/// <summary>
/// Per-class scores as CSV: <c>class,name,precision,recall,f1,support,predicted</c>, one row per class, with the
/// whole-set figures left to the report's JSON.
/// </summary>
public static class PerClassCsv
{
    public static readonly string[] Header = ["class", "name", "precision", "recall", "f1", "support", "predicted"];

    public static void Write(string path, EvaluationReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        CsvText.WriteFile(path, Header, report.PerClass.Select(s => new[]
        {
            s.Class.ToString(CultureInfo.InvariantCulture),
            report.ClassNames[s.Class],
            s.Precision.ToString("R", CultureInfo.InvariantCulture),
            s.Recall.ToString("R", CultureInfo.InvariantCulture),
            s.F1.ToString("R", CultureInfo.InvariantCulture),
            s.Support.ToString(CultureInfo.InvariantCulture),
            s.Predicted.ToString(CultureInfo.InvariantCulture),
        }));
    }

    /// <summary>Class name, F1 and support of each row of a file written by <see cref="Write"/>; empty when it does not exist.</summary>
    public static IReadOnlyList<(string Name, double F1, long Support)> Read(string file)
    {
        if (!File.Exists(file)) return [];
        var table = CsvTable.ReadAll(file);
        int name = table.IndexOf("name"), f1 = table.IndexOf("f1"), support = table.IndexOf("support");
        if (name < 0 || f1 < 0) throw new MaskLabInputException($"{file} lacks the name or f1 column");
        try
        {
            return table.Rows.Select(r => (r.Values[name], double.Parse(r.Values[f1], CultureInfo.InvariantCulture),
                support >= 0 ? long.Parse(r.Values[support], CultureInfo.InvariantCulture) : 0L)).ToList();
        }
        catch (FormatException e)
        {
            throw new MaskLabInputException($"{file} is not a per-class CSV: {e.Message.ReplaceLineEndings(" ")}");
        }
    }
}
