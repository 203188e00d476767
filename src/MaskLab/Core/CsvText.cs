using CsvHelper;

namespace MaskLab.Core;

/// <summary>The one CSV writer of the library: rows of text fields in MaskLab's dialect (<see cref="CsvFormat"/>), quoted where needed.</summary>
internal static class CsvText
{
    /// <summary>Writes a header and rows to <paramref name="writer"/>.</summary>
    public static void Write(TextWriter writer, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        using var csv = CsvWriter.Create(writer, CsvFormat.Writer, leaveOpen: true);
        csv.WriteHeader(header.ToArray());
        foreach (var row in rows) csv.WriteRecord(row as string[] ?? row.ToArray());
    }

    /// <summary>The CSV text of a header and rows.</summary>
    public static string Format(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        using var w = new StringWriter();
        Write(w, header, rows);
        return w.ToString();
    }

    /// <summary>Writes a header and rows atomically to <paramref name="path"/>.</summary>
    public static void WriteFile(string path, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows) =>
        AtomicFile.WriteText(path, w => Write(w, header, rows));
}
