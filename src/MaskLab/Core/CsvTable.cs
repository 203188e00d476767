using CsvHelper;

namespace MaskLab.Core;

/// <summary>One data row: its line in the file (for messages) and the values of the requested columns, trimmed.</summary>
public readonly record struct CsvTableRow(long Line, string[] Values);

/// <summary>
/// The one CSV reader of MaskLab (<see cref="CsvText"/> is the one writer): the task's files (train.csv, info.csv,
/// submissions) and the run's own (per-class scores, confusion, predictions) read by column name. Every failure becomes
/// a one-line <see cref="MaskLabInputException"/> that names the file, since these files are hand-edited and copied.
/// </summary>
public sealed class CsvTable
{
    public required string Path { get; init; }

    /// <summary>The columns of <see cref="CsvTableRow.Values"/>, in order: those requested, or the whole header.</summary>
    public required IReadOnlyList<string> Columns { get; init; }

    public required IReadOnlyList<CsvTableRow> Rows { get; init; }

    /// <summary>The index of <paramref name="column"/> in <see cref="Columns"/> (matched ignoring case), or -1.</summary>
    public int IndexOf(string column)
    {
        for (var i = 0; i < Columns.Count; i++)
            if (string.Equals(Columns[i], column, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }

    /// <summary>Reads <paramref name="path"/>, requiring each of <paramref name="columns"/> (matched ignoring case).</summary>
    public static CsvTable Read(string path, params string[] columns)
    {
        RequireFile(path);
        return Parse(path, options => CsvReader.FromFile(path, options), columns);
    }

    /// <summary>Reads every column of <paramref name="path"/>, in the header's order: for files whose columns vary.</summary>
    public static CsvTable ReadAll(string path)
    {
        RequireFile(path);
        return Parse(path, options => CsvReader.FromFile(path, options), null);
    }

    /// <summary>Reads CSV <paramref name="text"/> (e.g. a file embedded in the library), named <paramref name="name"/> in messages.</summary>
    public static CsvTable ReadText(string text, string name, params string[] columns) =>
        Parse(name, options => CsvReader.FromText(text, options), columns);

    /// <summary>The header's column names of <paramref name="path"/>, trimmed (none for an empty file): for files whose columns vary.</summary>
    public static IReadOnlyList<string> Header(string path)
    {
        RequireFile(path);
        return Reading(path, () =>
        {
            using var csv = CsvReader.FromFile(path, Options);
            return HeaderOf(csv);
        });
    }

    // The separator is fixed: detection could pick another one for a one-column file. Malformed quoting is an error:
    // recovering from a quote that is never closed would swallow every row after it into one field.
    static CsvReaderOptions Options => new() { Separator = ',', TrackLineNumbers = true, MalformedData = CsvMalformedDataHandling.Throw };

    static string[] HeaderOf(CsvReader csv) => csv.Headers.Select(h => h.Trim().TrimStart('\uFEFF').Trim()).ToArray();

    static void RequireFile(string path)
    {
        if (InputFile.Problem(path, InputFile.MaxCsvBytes) is { } problem)
            throw new MaskLabInputException(Directory.Exists(path) ? $"{path} is a folder, not a CSV file" : $"{path} {problem}");
    }

    /// <summary>Runs <paramref name="read"/> with every CSV or I/O failure as a one-line error naming <paramref name="path"/>.</summary>
    static T Reading<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (CsvFormatException e)
        {
            throw new MaskLabInputException($"{path} line {e.LineNumber}: malformed CSV: {e.Message.ReplaceLineEndings(" ")}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MaskLabInputException($"cannot read {path}: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    static CsvTable Parse(string path, Func<CsvReaderOptions, CsvReader> open, string[]? wanted) => Reading(path, () =>
    {
        using var csv = open(Options);
        var found = HeaderOf(csv);
        var columns = wanted ?? found;
        var index = wanted is null
            ? Enumerable.Range(0, found.Length).ToArray()
            : columns.Select(c => Array.FindIndex(found, f => string.Equals(f, c, StringComparison.OrdinalIgnoreCase))).ToArray();
        var missing = columns.Where((_, i) => index[i] < 0).ToArray();
        if (missing.Length > 0)
        {
            var seen = found.Length == 0 || found.All(f => f.Length == 0) ? "no header" : string.Join(",", found);
            throw new MaskLabInputException(
                $"{path} lacks {(missing.Length == 1 ? "column" : "columns")} {string.Join(", ", missing)} " +
                $"(expected a header with {string.Join(",", columns)}; found {seen})");
        }
        var rows = new List<CsvTableRow>();
        while (csv.Read())
        {
            var values = new string[index.Length];
            for (var i = 0; i < index.Length; i++)
                values[i] = index[i] < csv.FieldCount ? csv.GetString(index[i]).Trim() : "";
            rows.Add(new CsvTableRow(csv.LineNumber, values));
        }
        return new CsvTable { Path = path, Columns = columns, Rows = rows };
    });
}
