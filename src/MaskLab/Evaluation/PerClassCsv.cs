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
}
