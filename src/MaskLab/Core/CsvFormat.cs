using CsvHelper;

namespace MaskLab.Core;

/// <summary>The CSV dialect MaskLab writes and reads: comma separated, LF line ends, strict quoting on read.</summary>
internal static class CsvFormat
{
    public static readonly CsvWriterOptions Writer = new() { NewLine = "\n" };

    public static readonly CsvReaderOptions Reader = new()
    {
        TrimWhitespace = true,
        TrackLineNumbers = true,
        MalformedData = CsvMalformedDataHandling.Throw,
    };
}
