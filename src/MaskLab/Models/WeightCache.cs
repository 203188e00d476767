using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MaskLab.Models;

/// <summary>How a cached conversion was found.</summary>
public enum WeightCacheOutcome
{
    /// <summary>The cached file was intact and made from the same source: used as it is.</summary>
    Reused,

    /// <summary>There was no cached file: converted now.</summary>
    Converted,

    /// <summary>The cached file was damaged, incomplete or made from another source: converted again.</summary>
    Rebuilt,
}

/// <summary>What <see cref="WeightCache.Ensure"/> did.</summary>
/// <param name="File">The safetensors file, ready to load.</param>
/// <param name="RebuildReason">Why the cached file was not used, for <see cref="WeightCacheOutcome.Rebuilt"/>.</param>
/// <param name="ConversionSeconds">Time spent converting (and writing) now; 0 when reused.</param>
public sealed record WeightCacheResult(string File, WeightCacheOutcome Outcome, string? RebuildReason, double ConversionSeconds);

/// <summary>
/// Converted weights kept as a safetensors file beside a small JSON record of the SHA-256 of the source it was made
/// from and of the file itself. A file that fails either check, or that the record is missing for, is converted
/// again; both are replaced atomically (weights first, record last), so an interrupted write is only ever seen as
/// a missing record.
/// </summary>
internal static class WeightCache
{
    const int Format = 1;

    sealed record Record(
        [property: JsonPropertyName("format")] int Format,
        [property: JsonPropertyName("source_sha256")] string SourceSha256,
        [property: JsonPropertyName("weights_sha256")] string WeightsSha256,
        [property: JsonPropertyName("tensors")] int Tensors,
        [property: JsonPropertyName("converted_utc")] DateTime ConvertedUtc,
        [property: JsonPropertyName("convert_seconds")] double ConvertSeconds);

    public static string RecordFile(string weightsFile) => weightsFile + ".json";

    /// <summary>
    /// The cached conversion of a source whose SHA-256 is <paramref name="sourceSha256"/>, made with
    /// <paramref name="convert"/> (which hands over its tensors) when the cache does not hold it intact.
    /// </summary>
    public static WeightCacheResult Ensure(string weightsFile, string sourceSha256, Func<Dictionary<string, Tensor>> convert)
    {
        var reason = Problem(weightsFile, sourceSha256);
        if (reason is null) return new WeightCacheResult(weightsFile, WeightCacheOutcome.Reused, null, 0);
        var seconds = Write(weightsFile, sourceSha256, convert);
        return reason == Missing
            ? new WeightCacheResult(weightsFile, WeightCacheOutcome.Converted, null, seconds)
            : new WeightCacheResult(weightsFile, WeightCacheOutcome.Rebuilt, reason, seconds);
    }

    const string Missing = "not cached";

    /// <summary>Why the cached file cannot be used; null when it can.</summary>
    public static string? Problem(string weightsFile, string sourceSha256)
    {
        var recordFile = RecordFile(weightsFile);
        if (!File.Exists(weightsFile) && !File.Exists(recordFile)) return Missing;
        if (!File.Exists(weightsFile)) return $"'{weightsFile}' is missing";
        if (!File.Exists(recordFile)) return $"'{recordFile}' is missing (an interrupted conversion?)";
        Record? record;
        try { record = JsonSerializer.Deserialize<Record>(File.ReadAllText(recordFile)); }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return $"'{recordFile}' cannot be read: {e.Message}";
        }
        if (record is null || record.Format != Format || record.SourceSha256 is null || record.WeightsSha256 is null)
            return $"'{recordFile}' is not a format-{Format} record";
        if (!string.Equals(record.SourceSha256, sourceSha256, StringComparison.OrdinalIgnoreCase))
            return $"'{weightsFile}' was converted from another source file";
        string actual;
        try { actual = Sha256(weightsFile); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"'{weightsFile}' cannot be read: {e.Message}";
        }
        return string.Equals(actual, record.WeightsSha256, StringComparison.OrdinalIgnoreCase)
            ? null
            : $"'{weightsFile}' is damaged (SHA-256 {actual[..12]}..., recorded {record.WeightsSha256[..Math.Min(12, record.WeightsSha256.Length)]}...)";
    }

    static double Write(string weightsFile, string sourceSha256, Func<Dictionary<string, Tensor>> convert)
    {
        var watch = Stopwatch.StartNew();
        var full = Path.GetFullPath(weightsFile);
        var dir = Path.GetDirectoryName(full)!;
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        // A cache folder that cannot be made is refused before the conversion's seconds are spent.
        try { Directory.CreateDirectory(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MaskLabInputException($"cannot write converted weights '{weightsFile}': {e.Message}");
        }
        var tensors = convert();
        try
        {
            Directory.CreateDirectory(dir);
            // Sorted, so the same weights always give the same bytes and the same checksum.
            var ordered = tensors.OrderBy(e => e.Key, StringComparer.Ordinal).ToDictionary(e => e.Key, e => e.Value);
            using (var stream = File.Create(tmp))
                Safetensors.SaveStateDict(stream, ordered);
            var sha = Sha256(tmp);
            File.Move(tmp, full, overwrite: true);
            var seconds = watch.Elapsed.TotalSeconds;
            var record = new Record(Format, sourceSha256.ToLowerInvariant(), sha, tensors.Count, DateTime.UtcNow, Math.Round(seconds, 3));
            AtomicFile.WriteText(RecordFile(full), w => w.Write(JsonSerializer.Serialize(record, new JsonSerializerOptions { WriteIndented = true })));
            return seconds;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(tmp); } catch (IOException) { /* the first error is the one to report */ }
            throw new MaskLabInputException($"cannot write converted weights '{weightsFile}': {e.Message}");
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    public static string Sha256(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
