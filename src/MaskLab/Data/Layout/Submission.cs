using System.Globalization;
using CsvHelper;


namespace MaskLab.Data.Layout;

/// <summary>
/// The competition's submission file: <c>ImageID,ans</c>, one row per eval image in <c>info.csv</c> order, ans a
/// task class 0..17. The eval truth (<c>answers.csv</c>) has the same form.
/// </summary>
internal static class Submission
{
    public const string IdColumn = "ImageID";
    public const string AnswerColumn = "ans";

    /// <summary>
    /// Writes <c>ImageID,ans</c> rows in exactly the given order, LF line ends, UTF-8 without BOM; atomically
    /// (temporary file in the same folder, then rename).
    /// </summary>
    public static void Write(string path, IReadOnlyList<string> imageIdsInInfoOrder, IReadOnlyList<int> answers)
    {
        ArgumentNullException.ThrowIfNull(imageIdsInInfoOrder);
        ArgumentNullException.ThrowIfNull(answers);
        if (imageIdsInInfoOrder.Count != answers.Count)
            throw new ArgumentException($"{imageIdsInInfoOrder.Count} image ids but {answers.Count} answers");
        for (var i = 0; i < answers.Count; i++)
        {
            if (string.IsNullOrEmpty(imageIdsInInfoOrder[i]))
                throw new ArgumentException($"image id at row {i} is empty", nameof(imageIdsInInfoOrder));
            if ((uint)answers[i] >= TaskClasses.Count)
                throw new ArgumentOutOfRangeException(nameof(answers), answers[i], $"answer at row {i} is outside 0..{TaskClasses.Count - 1}");
        }
        CsvText.WriteFile(path, [IdColumn, AnswerColumn],
            answers.Select((a, i) => new[] { imageIdsInInfoOrder[i], a.ToString(CultureInfo.InvariantCulture) }));
    }

    /// <summary>
    /// Reads a submission. Requires columns <c>ImageID</c> and <c>ans</c> (others are ignored), answers that are
    /// whole numbers 0..17 and no repeated id. Bad input throws <see cref="MaskLabInputException"/> naming the
    /// file and line.
    /// </summary>
    public static (IReadOnlyList<string> Ids, IReadOnlyList<int> Answers) ReadPredictions(string path) =>
        Read(path, "prediction file");

    /// <summary>As <see cref="ReadPredictions"/>; <paramref name="role"/> ("truth file") starts each message.</summary>
    public static (IReadOnlyList<string> Ids, IReadOnlyList<int> Answers) Read(string path, string role)
    {
        ArgumentNullException.ThrowIfNull(path);
        var what = $"{role} '{path}'";
        if (Directory.Exists(path)) throw new MaskLabInputException($"{what} is a folder, not a CSV file");
        if (InputFile.Problem(path, InputFile.MaxCsvBytes) is { } problem) throw new MaskLabInputException($"{what} {problem}");

        var ids = new List<string>();
        var answers = new List<int>();
        var lineOf = new Dictionary<string, long>(StringComparer.Ordinal);
        try
        {
            using var csv = CsvReader.FromFile(path, CsvFormat.Reader);
            var headers = csv.Headers;
            if (headers.Count == 0) throw new MaskLabInputException($"{what} is empty; expected the header '{IdColumn},{AnswerColumn}'");
            if (!csv.TryGetFieldIndex(IdColumn, out var idCol) || !csv.TryGetFieldIndex(AnswerColumn, out var ansCol))
            {
                var missing = csv.TryGetFieldIndex(IdColumn, out _) ? AnswerColumn : IdColumn;
                throw new MaskLabInputException(
                    $"{what} has no column '{missing}' (header: '{string.Join(',', headers)}'); expected '{IdColumn},{AnswerColumn}'");
            }
            while (csv.Read())
            {
                var line = csv.LineNumber;
                if (csv.FieldCount <= Math.Max(idCol, ansCol))
                    throw new MaskLabInputException($"{what} line {line}: {csv.FieldCount} field(s), expected '{IdColumn},{AnswerColumn}'");
                var id = csv.GetString(idCol);
                var text = csv.GetString(ansCol);
                if (id.Length == 0) throw new MaskLabInputException($"{what} line {line}: empty {IdColumn}");
                if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ans))
                    throw new MaskLabInputException($"{what} line {line}: {AnswerColumn} '{text}' is not a whole number 0..{TaskClasses.Count - 1}");
                if ((uint)ans >= TaskClasses.Count)
                    throw new MaskLabInputException($"{what} line {line}: {AnswerColumn} {ans} is outside 0..{TaskClasses.Count - 1}");
                if (!lineOf.TryAdd(id, line))
                    throw new MaskLabInputException($"{what} line {line}: {IdColumn} '{id}' repeats line {lineOf[id]}");
                ids.Add(id);
                answers.Add(ans);
            }
        }
        catch (CsvFormatException e)
        {
            var at = e.LineNumber > 0 ? $" line {e.LineNumber}" : "";
            throw new MaskLabInputException($"{what}{at} is not valid CSV: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MaskLabInputException($"cannot read {what}: {e.Message}");
        }
        return (ids, answers);
    }
}
