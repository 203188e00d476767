using System.Globalization;
using CsvHelper;

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
        AtomicFile.WriteText(path, w =>
        {
            using var csv = CsvWriter.Create(w, CsvFormat.Writer, leaveOpen: true);
            var fields = new string[n + 1];
            fields[0] = TruthColumn;
            for (var c = 0; c < n; c++) fields[c + 1] = report.ClassNames[c];
            csv.WriteHeader(fields);
            for (var t = 0; t < n; t++)
            {
                fields[0] = report.ClassNames[t];
                for (var p = 0; p < n; p++) fields[p + 1] = report.Confusion[t, p].ToString(CultureInfo.InvariantCulture);
                csv.WriteRecord(fields);
            }
        });
    }

    /// <summary>The matrix and class names of a file written by <see cref="Write"/>; (null, []) when it does not exist.</summary>
    public static (long[,]? Matrix, IReadOnlyList<string> Names) Read(string file)
    {
        if (!File.Exists(file)) return (null, []);
        try
        {
            using var csv = CsvReader.FromFile(file, new CsvReaderOptions { Separator = ',' });
            var names = csv.Headers.Skip(1).ToArray();
            var cm = new long[names.Length, names.Length];
            int t = 0;
            while (csv.Read() && t < names.Length)
            {
                for (var p = 0; p < names.Length; p++) cm[t, p] = long.Parse(csv.GetString(p + 1), CultureInfo.InvariantCulture);
                t++;
            }
            return (cm, names);
        }
        catch (Exception e) when (e is FormatException or CsvFormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            throw new MaskLabInputException($"{file} is not a confusion matrix CSV: {e.Message.ReplaceLineEndings(" ")}");
        }
    }
}
