using System.Diagnostics;
using System.Text.Json;
using MaskLab.Runs;

namespace MaskLab.Dashboard;

/// <summary>metrics.jsonl as far as it reads: the good epochs, and where a line could not be read (a torn file).</summary>
public sealed record MetricsRead(IReadOnlyList<EpochRecord> Epochs, int? BadLine, string? BadReason)
{
    public bool Torn => BadLine is not null;
}

/// <summary>
/// Reading a run's files the way a watcher must: while the run may be writing them, and without ever writing or
/// locking anything of the run. The formats are the library's (<see cref="RunDirectory"/>, <see cref="EpochRecord"/>).
/// </summary>
public static class RunFiles
{
    /// <summary>
    /// Every epoch line that parses. Unlike <see cref="RunDirectory.ReadMetrics"/>, a bad line (a file cut short, a
    /// line edited by hand) does not throw: the lines after it are still read, and the first bad one is reported.
    /// </summary>
    public static MetricsRead ReadMetrics(RunDirectory run)
    {
        string[] lines;
        try
        {
            if (!File.Exists(run.MetricsFile)) return new([], null, null);
            lines = File.ReadAllLines(run.MetricsFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new([], 0, $"cannot read: {e.Message}");
        }
        var epochs = new List<EpochRecord>(lines.Length);
        int? bad = null;
        string? why = null;
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            try { epochs.Add(JsonSerializer.Deserialize<EpochRecord>(lines[i]) ?? throw new JsonException("null")); }
            catch (JsonException e)
            {
                if (bad is null) { bad = i + 1; why = e.Message.ReplaceLineEndings(" "); }
            }
        }
        return new(epochs, bad, why);
    }

    /// <summary>summary.json, or null when missing; a malformed one is reported in <paramref name="error"/>.</summary>
    public static RunSummary? ReadSummary(RunDirectory run, out string? error)
    {
        error = null;
        try { return run.ReadSummary(); }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException)
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
