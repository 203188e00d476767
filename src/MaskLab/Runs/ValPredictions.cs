using System.Globalization;

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
        string[] header = ["path", "truth", "prediction", "confidence", .. Enumerable.Range(0, c).Select(k => $"p_{k}")];
        CsvText.WriteFile(file, header, Enumerable.Range(0, n).Select(i =>
        {
            int best = 0;
            for (var k = 1; k < c; k++) if (probabilities[i, k] > probabilities[i, best]) best = k;
            var fields = new string[4 + c];
            fields[0] = paths[i];
            fields[1] = truth[i].ToString(CultureInfo.InvariantCulture);
            fields[2] = best.ToString(CultureInfo.InvariantCulture);
            fields[3] = Probability(probabilities[i, best]);
            for (var k = 0; k < c; k++) fields[4 + k] = Probability(probabilities[i, k]);
            return fields;
        }));
    }

    static string Probability(float p) => p.ToString("0.######", CultureInfo.InvariantCulture);

    public static IReadOnlyList<ValPrediction> Read(string file)
    {
        if (!File.Exists(file)) return [];
        var table = CsvTable.ReadAll(file);
        var headers = table.Columns;
        int classes = headers.Count(h => h.StartsWith("p_", StringComparison.Ordinal));
        if (headers.Count < 4 + classes || headers[0] != "path" || headers[1] != "truth")
            throw new MaskLabInputException($"{file} is not a val_predictions.csv (header {string.Join(",", headers)})");
        var rows = new List<ValPrediction>();
        foreach (var row in table.Rows)
        {
            var v = row.Values;
            try
            {
                var p = new double[classes];
                for (var k = 0; k < classes; k++) p[k] = double.Parse(v[4 + k], CultureInfo.InvariantCulture);
                rows.Add(new ValPrediction(v[0], int.Parse(v[1], CultureInfo.InvariantCulture),
                    int.Parse(v[2], CultureInfo.InvariantCulture), double.Parse(v[3], CultureInfo.InvariantCulture), p));
            }
            catch (FormatException e)
            {
                throw new MaskLabInputException($"{file} line {row.Line}: malformed row: {e.Message.ReplaceLineEndings(" ")}");
            }
        }
        return rows;
    }

    /// <summary>The wrong predictions, the most confident first.</summary>
    public static IReadOnlyList<ValPrediction> ConfidentlyWrong(IEnumerable<ValPrediction> rows, int count) =>
        rows.Where(r => r.Truth != r.Prediction).OrderByDescending(r => r.Confidence).ThenBy(r => r.Path, StringComparer.Ordinal).Take(count).ToList();
}
