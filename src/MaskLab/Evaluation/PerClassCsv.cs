using System.Globalization;
using CsvHelper;

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
        AtomicFile.WriteText(path, w =>
        {
            using var csv = CsvWriter.Create(w, CsvFormat.Writer, leaveOpen: true);
            csv.WriteHeader(Header);
            foreach (var s in report.PerClass)
            {
                csv.WriteRecord([
                    s.Class.ToString(CultureInfo.InvariantCulture),
                    report.ClassNames[s.Class],
                    s.Precision.ToString("R", CultureInfo.InvariantCulture),
                    s.Recall.ToString("R", CultureInfo.InvariantCulture),
                    s.F1.ToString("R", CultureInfo.InvariantCulture),
                    s.Support.ToString(CultureInfo.InvariantCulture),
                    s.Predicted.ToString(CultureInfo.InvariantCulture),
                ]);
            }
        });
    }

    /// <summary>Class name, F1 and support of each row of a file written by <see cref="Write"/>; empty when it does not exist.</summary>
    public static IReadOnlyList<(string Name, double F1, long Support)> Read(string file)
    {
        if (!File.Exists(file)) return [];
        try
        {
            using var csv = CsvReader.FromFile(file, new CsvReaderOptions { Separator = ',' });
            var h = csv.Headers.ToList();
            int name = h.IndexOf("name"), f1 = h.IndexOf("f1"), support = h.IndexOf("support");
            if (name < 0 || f1 < 0) throw new MaskLabInputException($"{file} lacks the name or f1 column");
            var rows = new List<(string, double, long)>();
            while (csv.Read())
                rows.Add((csv.GetString(name), double.Parse(csv.GetString(f1), CultureInfo.InvariantCulture),
                    support >= 0 ? long.Parse(csv.GetString(support), CultureInfo.InvariantCulture) : 0));
            return rows;
        }
        catch (Exception e) when (e is FormatException or CsvFormatException or IndexOutOfRangeException)
        {
            throw new MaskLabInputException($"{file} is not a per-class CSV: {e.Message.ReplaceLineEndings(" ")}");
        }
    }
}
