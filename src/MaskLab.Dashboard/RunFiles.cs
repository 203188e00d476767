using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using MaskLab.Runs;

namespace MaskLab.Dashboard;

/// <summary>
/// metrics.jsonl as far as it reads: the good epochs (at most <see cref="RunFiles.MaxEpochPoints"/> of them, evenly
/// spaced with the first, the last and the best kept, where the file holds more), where a line could not be read (a torn
/// file), and what is summed over every epoch whether kept or not.
/// </summary>
public sealed record MetricsRead(IReadOnlyList<EpochRecord> Epochs, int? BadLine, string? BadReason)
{
    public bool Torn => BadLine is not null;

    /// <summary>Epoch lines that read; more than <see cref="Epochs"/> holds where the curve was thinned.</summary>
    public int Total { get; init; }

    /// <summary>The sum of every epoch's seconds, and the mean of their training images/s (null without epochs).</summary>
    public double? Seconds { get; init; }
    public double? ImagesPerSecond { get; init; }

    public bool Thinned => Total > Epochs.Count;
}

/// <summary>
/// Reading a run's files the way a watcher must: while the run may be writing them, and without ever writing or
/// locking anything of the run. The formats are the library's (<see cref="RunDirectory"/>, <see cref="EpochRecord"/>).
/// </summary>
public static class RunFiles
{
    /// <summary>The most epochs one curve carries to the page: a long run's curve is thinned to this many points.</summary>
    public const int MaxEpochPoints = 2000;

    /// <summary>The largest metrics.jsonl read (millions of epochs); a larger one is reported, not read.</summary>
    public const long MaxMetricsBytes = 256L << 20;

    /// <summary>
    /// Each metrics file read once per change, however many requests ask at the same time: the first reads, the
    /// others wait for its result, so a hundred requests for one long run hold one copy, not a hundred.
    /// </summary>
    static readonly ConcurrentDictionary<string, (long Stamp, Lazy<MetricsRead> Read)> Metrics = new(StringComparer.Ordinal);

    const int MaxCachedFiles = 4096;

    /// <summary>
    /// Every epoch line that parses. Unlike <see cref="RunDirectory.ReadMetrics"/>, a bad line (a file cut short, a
    /// line edited by hand) does not throw: the lines after it are still read, and the first bad one is reported.
    /// </summary>
    public static MetricsRead ReadMetrics(RunDirectory run)
    {
        var file = run.MetricsFile;
        if (!File.Exists(file)) return new([], null, null);
        var stamp = Stamp(file);
        if (Metrics.Count > MaxCachedFiles) Metrics.Clear();
        var entry = Metrics.AddOrUpdate(file,
            _ => (stamp, new Lazy<MetricsRead>(() => ReadMetricsFile(file))),
            (_, known) => known.Stamp == stamp ? known : (stamp, new Lazy<MetricsRead>(() => ReadMetricsFile(file))));
        return entry.Read.Value;
    }

    static MetricsRead ReadMetricsFile(string file)
    {
        if (InputFile.Problem(file, MaxMetricsBytes) is { } problem) return new([], 0, $"metrics.jsonl {problem}");
        // Thinning as the lines stream by: keep every stride-th epoch; when twice the cap is held, drop every other
        // one and double the stride. Memory stays under twice the cap whatever the file's length.
        var kept = new List<(long Index, EpochRecord Epoch)>();
        long stride = 1, index = 0;
        (long Index, EpochRecord Epoch)? last = null, best = null;
        double seconds = 0, imagesPerSecond = 0;
        int? bad = null;
        string? why = null;
        int lineNumber = 0;
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                lineNumber++;
                if (line.Length == 0) continue;
                EpochRecord e;
                try { e = JsonSerializer.Deserialize<EpochRecord>(line) ?? throw new JsonException("null"); }
                catch (JsonException ex)
                {
                    if (bad is null) { bad = lineNumber; why = ex.Message.ReplaceLineEndings(" "); }
                    continue;
                }
                var item = (index, e);
                if (index % stride == 0)
                {
                    kept.Add(item);
                    if (kept.Count >= 2 * MaxEpochPoints)
                    {
                        kept = kept.Where((_, i) => i % 2 == 0).ToList();
                        stride *= 2;
                    }
                }
                last = item;
                if (best is null || e.ValMacroF1 > best.Value.Epoch.ValMacroF1) best = item;
                seconds += e.Seconds;
                imagesPerSecond += e.TrainImagesPerSecond;
                index++;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new([], 0, $"cannot read: {e.Message}");
        }
        if (kept.Count > MaxEpochPoints)
        {
            var step = (double)kept.Count / MaxEpochPoints;
            kept = Enumerable.Range(0, MaxEpochPoints).Select(i => kept[(int)(i * step)]).ToList();
        }
        foreach (var extra in new[] { last, best })
            if (extra is { } x && !kept.Any(k => k.Index == x.Index))
            {
                if (kept.Count >= MaxEpochPoints) kept.RemoveAt(kept.Count / 2);
                kept.Add(x);
            }
        var epochs = kept.OrderBy(k => k.Index).Select(k => k.Epoch).ToList();
        return new(epochs, bad, why)
        {
            Total = (int)Math.Min(index, int.MaxValue),
            Seconds = index > 0 ? seconds : null,
            ImagesPerSecond = index > 0 ? imagesPerSecond / index : null,
        };
    }

    /// <summary>summary.json, or null when missing; a malformed one is reported in <paramref name="error"/>.</summary>
    public static RunSummary? ReadSummary(RunDirectory run, out string? error)
    {
        error = null;
        try { return run.ReadSummary(); }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException or MaskLabInputException)
        {
            error = $"summary.json: {e.Message.ReplaceLineEndings(" ")}";
            return null;
        }
    }

    /// <summary>metadata.json, or null when missing or malformed.</summary>
    public static System.Text.Json.Nodes.JsonObject? ReadMetadata(RunDirectory run)
    {
        try { return RunMetadata.Read(run); }
        catch (Exception e) when (e is MaskLabInputException or IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>config.yaml as key to text, read loosely (a newer build may have written more keys); null when unreadable.</summary>
    public static IReadOnlyDictionary<string, string?>? ReadConfig(string configFile)
    {
        try { return Yaml.ScalarMap(Yaml.ReadFile(configFile), configFile, loose: true); }
        catch (Exception e) when (e is MaskLabInputException or IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>
    /// The live process writing <paramref name="dir"/>, from the holder its lock recorded: alive when that pid runs
    /// on this host and started before it took the lock (a pid the system handed to a new process since is not
    /// the writer). A holder on another host cannot be checked and counts as alive.
    /// </summary>
    public static RunLockHolder? LiveWriter(string dir)
    {
        if (!File.Exists(Path.Combine(dir, RunDirectory.LockHolderFileName))) return null;
        var holder = RunLock.ReadHolder(dir);
        if (holder is null) return null;
        if (!string.Equals(holder.Host, Environment.MachineName, StringComparison.Ordinal)) return holder;
        if (holder.Pid == Environment.ProcessId) return holder;
        try
        {
            using var p = Process.GetProcessById(holder.Pid);
            if (p.HasExited) return null;
            if (holder.Since is { } since && p.StartTime.ToUniversalTime() > since.UtcDateTime.AddSeconds(2)) return null;
            return holder;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>Length and write time of the files a row is made from, folded into one number that changes when any does.</summary>
    public static long Stamp(params string[] files)
    {
        long h = 17;
        foreach (var f in files)
        {
            var info = new FileInfo(f);
            h = unchecked(h * 31 + (info.Exists ? info.Length * 1_000_003 + info.LastWriteTimeUtc.Ticks : -1));
        }
        return h;
    }
}
