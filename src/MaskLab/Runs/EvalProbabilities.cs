using System.Globalization;

namespace MaskLab.Runs;

/// <summary>
/// A probability file: <c>ImageID,p0..p(C-1)</c>, one row per eval photo, the class probabilities of a model or of
/// an ensemble (<c>masklab predict --probs FILE</c> writes it). Pseudo-labelling reads it.
/// </summary>
public static class EvalProbabilities
{
    public sealed record Table(string[] ImageIds, float[,] Probabilities)
    {
        public int Classes => Probabilities.GetLength(1);
    }

    public static void Write(string file, IReadOnlyList<string> imageIds, float[,] probs)
    {
        if (imageIds.Count != probs.GetLength(0)) throw new ArgumentException("one row of probabilities per image id is needed");
        int classes = probs.GetLength(1);
        string[] header = ["ImageID", .. Enumerable.Range(0, classes).Select(c => $"p{c}")];
        CsvText.WriteFile(file, header, imageIds.Select((id, i) =>
        {
            var row = new string[1 + classes];
            row[0] = id;
            for (int c = 0; c < classes; c++) row[1 + c] = probs[i, c].ToString("R", CultureInfo.InvariantCulture);
            return (IReadOnlyList<string>)row;
        }));
    }

    public static Table Read(string file)
    {
        InputFile.Require(file, "probability file", InputFile.MaxCsvBytes);
        var header = CsvTable.Header(file);
        int classes = header.Count(h => h.Length > 1 && h[0] == 'p' && h[1..].All(char.IsDigit));
        if (classes < 2 || !header.Contains("ImageID", StringComparer.OrdinalIgnoreCase))
            throw new MaskLabInputException($"'{file}' is not a probability file (expected ImageID,p0,p1,... as predict --probs writes)");
        var table = CsvTable.Read(file, ["ImageID", .. Enumerable.Range(0, classes).Select(c => $"p{c}")]);
        int n = table.Rows.Count;
        var ids = new string[n];
        var probs = new float[n, classes];
        for (int r = 0; r < n; r++)
        {
            var row = table.Rows[r].Values;
            ids[r] = row[0];
            for (int c = 0; c < classes; c++)
                if (!float.TryParse(row[1 + c], NumberStyles.Float, CultureInfo.InvariantCulture, out probs[r, c]) || !(probs[r, c] >= 0 && probs[r, c] <= 1))
                    throw new MaskLabInputException($"'{file}' line {table.Rows[r].Line}: p{c} '{row[1 + c]}' is not a probability");
        }
        return new Table(ids, probs);
    }
}
