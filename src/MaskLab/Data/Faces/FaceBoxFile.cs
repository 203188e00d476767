using System.Globalization;

namespace MaskLab.Data.Faces;

/// <summary>One photo's face box, or none; <see cref="Score"/> is the detector's confidence where a detector made it.</summary>
internal sealed record FaceBoxRow(string Path, FaceBox? Box, float? Score = null);

/// <summary>
/// The face box files: <c>path,x,y,w,h</c> in pixels (the synthetic set's truth), or with a <c>score</c> column
/// (a detector's output). A photo without a face has empty x, y, w, h. Floats are written so that they read back
/// to the same bits.
/// </summary>
internal static class FaceBoxFile
{
    static readonly string[] Columns = ["path", "x", "y", "w", "h"];
    const string ScoreColumn = "score";

    /// <summary>Writes <paramref name="rows"/> atomically; the score column is written when <paramref name="withScore"/>.</summary>
    public static void Write(string file, IEnumerable<FaceBoxRow> rows, bool withScore = false)
    {
        ArgumentNullException.ThrowIfNull(rows);
        CsvText.WriteFile(file, withScore ? [.. Columns, ScoreColumn] : Columns, rows.Select(r =>
        {
            var b = r.Box;
            string[] values =
            [
                r.Path,
                b is { } x ? F(x.X) : "", b is { } y ? F(y.Y) : "", b is { } bw ? F(bw.Width) : "", b is { } bh ? F(bh.Height) : "",
            ];
            string[] row = withScore ? [.. values, r.Score is { } s ? F(s) : ""] : values;
            return row;
        }));
    }

    static string F(float v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Reads a box file; a bad number or a half-empty box throws <see cref="MaskLabInputException"/> naming the file and line.</summary>
    public static IReadOnlyList<FaceBoxRow> Read(string file)
    {
        if (File.Exists(file)) InputFile.Require(file, "face box file", InputFile.MaxCsvBytes);
        var withScore = HasScoreColumn(file);
        var table = CsvTable.Read(file, withScore ? [.. Columns, ScoreColumn] : Columns);
        // Every row this class writes ends with a line break: a file that does not was cut inside its last row, whose
        // last number may read as a smaller one (a height of 39.65 cut to 3).
        if (table.Rows.Count > 0 && !EndsWithLineBreak(file))
            throw new MaskLabInputException($"{file} line {table.Rows[^1].Line}: the last row is cut short (no line break after it)");
        var rows = new List<FaceBoxRow>(table.Rows.Count);
        foreach (var row in table.Rows)
        {
            var v = row.Values;
            if (v[0].Length == 0) throw new MaskLabInputException($"{file} line {row.Line}: empty path");
            var empty = v.Skip(1).Take(4).Count(s => s.Length == 0);
            FaceBox? box = empty switch
            {
                4 => null,
                0 => new FaceBox(Number(file, row.Line, v[1]), Number(file, row.Line, v[2]), Number(file, row.Line, v[3]), Number(file, row.Line, v[4])),
                _ => throw new MaskLabInputException($"{file} line {row.Line}: x, y, w, h must all be given or all be empty"),
            };
            if (box is { Width: < 0 } or { Height: < 0 })
                throw new MaskLabInputException($"{file} line {row.Line}: a box has a negative width or height");
            float? score = withScore && v[5].Length > 0 ? Number(file, row.Line, v[5]) : null;
            rows.Add(new FaceBoxRow(v[0], box, score));
        }
        return rows;
    }

    static bool EndsWithLineBreak(string file)
    {
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            if (stream.Length == 0) return true;
            stream.Seek(-1, SeekOrigin.End);
            return stream.ReadByte() == '\n';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MaskLabInputException($"cannot read {file}: {e.Message}");
        }
    }

    static bool HasScoreColumn(string file)
    {
        if (!File.Exists(file)) return false; // CsvTable.Read names the missing file
        return CsvTable.Header(file).Contains(ScoreColumn, StringComparer.OrdinalIgnoreCase);
    }

    static float Number(string file, long line, string text) =>
        float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && float.IsFinite(v)
            ? v
            : throw new MaskLabInputException($"{file} line {line}: '{Echo.Of(text, 40)}' is not a number");
}
