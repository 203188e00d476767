using System.Globalization;
using CsvHelper;
using MaskLab.Data;

namespace MaskLab.Runs;

/// <summary>One validation photo as the best checkpoint saw it.</summary>
public sealed record ValPrediction(string Path, int Truth, int Prediction, double Confidence, double[] Probabilities);

/// <summary>
/// RUNDIR/val_predictions.csv: <c>path,truth,prediction,confidence,p_0..p_{C-1}</c>, written with the best checkpoint
/// so a report can show the photos the model got most confidently wrong.
/// </summary>
public static class ValPredictions
{
    public static void Write(string file, IReadOnlyList<string> paths, IReadOnlyList<int> truth, float[,] probabilities)
    {
        int n = probabilities.GetLength(0), c = probabilities.GetLength(1);
        if (paths.Count != n || truth.Count != n) throw new ArgumentException("paths, truth and probabilities differ in length");
        AtomicFile.WriteText(file, w =>
        {
            using var csv = CsvWriter.Create(w, new CsvWriterOptions { NewLine = "\n" }, leaveOpen: true);
            var fields = new string[4 + c];
            fields[0] = "path"; fields[1] = "truth"; fields[2] = "prediction"; fields[3] = "confidence";
            for (var k = 0; k < c; k++) fields[4 + k] = $"p_{k}";
            csv.WriteHeader(fields);
            for (var i = 0; i < n; i++)
            {
                int best = 0;
                for (var k = 1; k < c; k++) if (probabilities[i, k] > probabilities[i, best]) best = k;
                fields[0] = paths[i];
                fields[1] = truth[i].ToString(CultureInfo.InvariantCulture);
                fields[2] = best.ToString(CultureInfo.InvariantCulture);
                fields[3] = probabilities[i, best].ToString("0.######", CultureInfo.InvariantCulture);
                for (var k = 0; k < c; k++) fields[4 + k] = probabilities[i, k].ToString("0.######", CultureInfo.InvariantCulture);
                csv.WriteRecord(fields);
            }
        });
    }

    public static IReadOnlyList<ValPrediction> Read(string file)
    {
        if (!File.Exists(file)) return [];
        try
        {
            using var csv = CsvReader.FromFile(file, new CsvReaderOptions { Separator = ',', TrackLineNumbers = true });
            var headers = csv.Headers.ToArray();
            int classes = headers.Count(h => h.StartsWith("p_", StringComparison.Ordinal));
            if (headers.Length < 4 || headers[0] != "path" || headers[1] != "truth")
                throw new MaskLabInputException($"{file} is not a val_predictions.csv (header {string.Join(",", headers)})");
            var rows = new List<ValPrediction>();
            while (csv.Read())
            {
                var p = new double[classes];
                for (var k = 0; k < classes; k++) p[k] = double.Parse(csv.GetString(4 + k), CultureInfo.InvariantCulture);
                rows.Add(new ValPrediction(csv.GetString(0), int.Parse(csv.GetString(1), CultureInfo.InvariantCulture),
                    int.Parse(csv.GetString(2), CultureInfo.InvariantCulture), double.Parse(csv.GetString(3), CultureInfo.InvariantCulture), p));
            }
            return rows;
        }
        catch (Exception e) when (e is FormatException or CsvFormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            throw new MaskLabInputException($"{file}: malformed row: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    /// <summary>The wrong predictions, the most confident first.</summary>
    public static IReadOnlyList<ValPrediction> ConfidentlyWrong(IEnumerable<ValPrediction> rows, int count) =>
        rows.Where(r => r.Truth != r.Prediction).OrderByDescending(r => r.Confidence).ThenBy(r => r.Path, StringComparer.Ordinal).Take(count).ToList();
}
