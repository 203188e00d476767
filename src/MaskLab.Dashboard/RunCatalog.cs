using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using MaskLab.Experiments;
using MaskLab.Runs;

namespace MaskLab.Dashboard;

/// <summary>What a folder under the runs root is: a run, a k-fold root, one of its folds, or a sweep folder.</summary>
public enum EntryKind { Run, KFold, Fold, Sweep }

/// <summary>Where a run, k-fold root or sweep stands.</summary>
public enum EntryStatus { Running, Finished, Failed, Stopped, Pending }

/// <summary>One row of the runs table: what a run is, how far it got and what it scored.</summary>
public sealed record RunRow
{
    public required string Id { get; init; }
    /// <summary>The folder (absolute); left out of the table's JSON, where the id says it below the runs root.</summary>
    [System.Text.Json.Serialization.JsonIgnore] public string Dir { get; init; } = "";
    public required EntryKind Kind { get; init; }
    public string? Parent { get; init; }
    public required EntryStatus Status { get; init; }
    public string? Model { get; init; }
    public string? Loss { get; init; }
    public string? ImageSize { get; init; }
    public string? Precision { get; init; }
    public string? Device { get; init; }
    public int EpochsDone { get; init; }
    public int? EpochsPlanned { get; init; }
    public double? ValF1 { get; init; }
    public double? ValMaskF1 { get; init; }
    public double? ValGenderF1 { get; init; }
    public double? ValAgeF1 { get; init; }
    public double? EvalF1 { get; init; }
    public double? EvalMaskF1 { get; init; }
    public double? EvalGenderF1 { get; init; }
    public double? EvalAgeF1 { get; init; }
    public double? OofF1 { get; init; }
    public double? ImagesPerSecond { get; init; }
    public double? WallSeconds { get; init; }
    public string? Started { get; init; }
    /// <summary>metrics.jsonl has a line that does not read (the row shows the epochs before and after it).</summary>
    public bool Torn { get; init; }
    /// <summary>Why the run failed or could not be read, one line.</summary>
    public string? Problem { get; init; }
    /// <summary>For a k-fold root or a sweep: its runs, and how many have finished.</summary>
    public int? Members { get; init; }
    public int? MembersFinished { get; init; }
    public string? Writer { get; init; }
    /// <summary>Has weights to predict with (checkpoints/best.ckpt, or every fold's for a k-fold root).</summary>
    public bool CanPredict { get; init; }
    /// <summary>Why <see cref="CanPredict"/> is false, one line (the missing weights, or a summary.json that does not read).</summary>
    public string? CannotPredict { get; init; }
    /// <summary>Has oof.csv (a finished k-fold root): the label review can read it.</summary>
    public bool HasOof { get; init; }
}

/// <summary>
/// Finds every run, k-fold root and sweep under the runs root and keeps what their files say, re-reading a folder
/// only when one of its files changed (size or time), so that the table of a thousand runs answers quickly and a
/// running training's row follows its epochs. Reads only; writes nothing.
/// </summary>
public sealed class RunCatalog(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    const int MaxDepth = 8;

    /// <summary>Folders that never hold runs: a run's own subfolders, Slurm logs, the reviews the dashboard writes.</summary>
    static readonly HashSet<string> Skip = new(StringComparer.Ordinal) { "checkpoints", "tensorboard", "slurm", "label-reviews" };

    sealed record Facts(long Stamp, IReadOnlyDictionary<string, string?>? Config, RunSummary? Summary, string? SummaryError,
        JsonObject? Metadata, MetricsRead Metrics, string? Failure, bool HasLast, bool HasBest, bool HasOof, bool HasWriterRecord);

    readonly ConcurrentDictionary<string, Facts> _facts = new(StringComparer.Ordinal);

    /// <summary>The id of a folder: its path below the root ('/'-separated), "." for the root itself.</summary>
    public string IdOf(string dir)
    {
        var rel = Path.GetRelativePath(Root, dir).Replace('\\', '/');
        return rel;
    }

    /// <summary>The folder of an id, or null when the id is not a folder inside the root (no '..', no absolute paths).</summary>
    public string? DirOf(string? id)
    {
        if (string.IsNullOrEmpty(id)) return null;
        if (id == ".") return Root;
        if (id.Contains('\\') || id.Contains('\0') || id.StartsWith('/') || id.Split('/').Any(s => s is "" or "." or "..")) return null;
        var dir = Path.GetFullPath(Path.Combine(Root, id));
        if (!dir.StartsWith(Root.TrimEnd('/') + "/", StringComparison.Ordinal) || !Directory.Exists(dir)) return null;
        var real = ServedRoots.RealPath(dir);
        var realRoot = ServedRoots.RealPath(Root);
        if (real is null || realRoot is null || !(real + "/").StartsWith(realRoot.TrimEnd('/') + "/", StringComparison.Ordinal)) return null;
        return dir;
    }

    /// <summary>Every entry under the root, found afresh (new runs appear at once).</summary>
    public IReadOnlyList<RunRow> Rows() => RowsFrom(Root, null);

    /// <summary>The row of the folder <paramref name="id"/> names, or null when it is not a run, k-fold root or sweep.</summary>
    public RunRow? Row(string id)
    {
        var dir = DirOf(id);
        if (dir is null) return null;
        return RowsFrom(dir, ParentOf(dir)).FirstOrDefault(r => r.Dir == dir);
    }

    /// <summary>The rows of the folder <paramref name="id"/> names and everything under it (a sweep's runs, a k-fold root's folds).</summary>
    public IReadOnlyList<RunRow> RowsUnder(string id) => DirOf(id) is { } dir ? RowsFrom(dir, ParentOf(dir)) : [];

    /// <summary>The id of the sweep or k-fold root directly holding <paramref name="dir"/>, if any.</summary>
    string? ParentOf(string dir)
    {
        if (dir == Root) return null;
        var up = Path.GetDirectoryName(dir);
        if (up is null || !up.StartsWith(Root, StringComparison.Ordinal)) return null;
        if (File.Exists(Path.Combine(up, "sweep.yaml"))) return IdOf(up);
        if (RunDirectory.IsRun(up) && IsKFoldRoot(up) && Path.GetFileName(dir).StartsWith("fold-", StringComparison.Ordinal)) return IdOf(up);
        return null;
    }

    IReadOnlyList<RunRow> RowsFrom(string start, string? startParent)
    {
        var found = new List<(string Dir, EntryKind Kind, string? Parent)>();
        if (startParent is not null && Path.GetFileName(start).StartsWith("fold-", StringComparison.Ordinal)
            && RunDirectory.IsRun(start) && !IsKFoldRoot(start) && IsKFoldRoot(Path.GetDirectoryName(start)!))
            found.Add((start, EntryKind.Fold, startParent));
        else Walk(start, 0, startParent, found);
        var rows = new RunRow[found.Count];
        // Reading the files is the cost of a cold table: spread it over the cores.
        Parallel.For(0, found.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var (dir, kind, parent) = found[i];
            if (kind is EntryKind.Run or EntryKind.Fold) rows[i] = RunRowOf(dir, kind, parent);
        });
        var byId = new Dictionary<string, RunRow>(StringComparer.Ordinal);
        foreach (var r in rows) if (r is not null) byId[r.Id] = r;
        // Containers from their members: a k-fold root before the sweep that may hold it.
        foreach (var kind in new[] { EntryKind.KFold, EntryKind.Sweep })
            for (int i = found.Count - 1; i >= 0; i--)
            {
                var (dir, k, parent) = found[i];
                if (k != kind) continue;
                var id = IdOf(dir);
                var members = byId.Values.Where(r => r.Parent == id).ToList();
                rows[i] = kind == EntryKind.KFold ? KFoldRowOf(dir, parent, members) : SweepRowOf(dir, parent, members);
                byId[id] = rows[i];
            }
        return rows;
    }

    void Walk(string dir, int depth, string? parent, List<(string, EntryKind, string?)> found)
    {
        if (RunDirectory.IsRun(dir))
        {
            if (IsKFoldRoot(dir))
            {
                var id = IdOf(dir);
                found.Add((dir, EntryKind.KFold, parent));
                foreach (var fold in Subfolders(dir).Where(f => Path.GetFileName(f).StartsWith("fold-", StringComparison.Ordinal) && RunDirectory.IsRun(f)))
                    found.Add((fold, EntryKind.Fold, id));
            }
            else found.Add((dir, EntryKind.Run, parent));
            return;
        }
        if (File.Exists(Path.Combine(dir, "sweep.yaml")))
        {
            var id = IdOf(dir);
            found.Add((dir, EntryKind.Sweep, parent));
            foreach (var sub in Subfolders(dir)) Walk(sub, depth + 1, id, found);
            return;
        }
        if (depth >= MaxDepth) return;
        foreach (var sub in Subfolders(dir)) Walk(sub, depth + 1, parent, found);
    }

    /// <summary>A k-fold root: a run folder with fold-0 inside and no checkpoint of its own (<see cref="RunDirectory.IsKFoldRoot"/>).</summary>
    static bool IsKFoldRoot(string dir) => new RunDirectory(dir).IsKFoldRoot;

    static IEnumerable<string> Subfolders(string dir)
    {
        IEnumerable<DirectoryInfo> subs;
        try { subs = new DirectoryInfo(dir).EnumerateDirectories().ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { yield break; }
        foreach (var d in subs.OrderBy(d => d.Name, StringComparer.Ordinal))
        {
            // Links are not followed: one could lead out of the root, or round in a circle.
            if (d.Name.StartsWith('.') || Skip.Contains(d.Name) || d.Name.EndsWith(".label-reviews", StringComparison.Ordinal)
                || d.Attributes.HasFlag(FileAttributes.ReparsePoint)) continue;
            yield return d.FullName;
        }
    }

    /// <summary>
    /// What a run folder's files say, read again only when its stamp moves. Every file of a run is replaced by a
    /// rename, which changes its folder's time (checkpoints/ for the checkpoints): those two times, with the two files
    /// a training rewrites each epoch (also caught when edited in place), cover the rest in four system calls.
    /// </summary>
    Facts FactsOf(string dir)
    {
        var run = new RunDirectory(dir);
        var stamp = unchecked(RunFiles.Stamp(run.MetricsFile, run.SummaryFile) * 31
                              + Directory.GetLastWriteTimeUtc(dir).Ticks * 7 + Directory.GetLastWriteTimeUtc(run.CheckpointsDir).Ticks);
        if (_facts.TryGetValue(dir, out var known) && known.Stamp == stamp) return known;
        var summary = RunFiles.ReadSummary(run, out var summaryError);
        string? failure = null;
        try { failure = run.ReadFailure(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { failure = e.Message; }
        var facts = new Facts(stamp, RunFiles.ReadConfig(run.ConfigFile), summary, summaryError, RunFiles.ReadMetadata(run),
            RunFiles.ReadMetrics(run), failure, File.Exists(run.LastCheckpoint), File.Exists(run.BestCheckpoint), File.Exists(run.OofFile),
            File.Exists(Path.Combine(dir, RunDirectory.LockHolderFileName)));
        _facts[dir] = facts;
        return facts;
    }

    static string? Cfg(Facts f, string key) => f.Config is { } c && c.TryGetValue(key, out var v) ? v : null;

    static int? CfgInt(Facts f, string key) =>
        int.TryParse(Cfg(f, key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;

    static double? Finite(double? v) => v is { } d && double.IsFinite(d) ? d : null;

    RunRow RunRowOf(string dir, EntryKind kind, string? parent)
    {
        var f = FactsOf(dir);
        var writer = f.HasWriterRecord ? RunFiles.LiveWriter(dir) : null;
        var t = f.Summary?.Training;
        var epochs = f.Metrics.Epochs;
        // epochs auto: the count the run decided, from its summary or (while it trains) its metadata.json.
        bool autoEpochs = Cfg(f, "epochs") is "auto";
        int? planned = CfgInt(f, "epochs") ?? t?.EpochsPlanned ?? (f.Metadata?["epochs"]?["resolved"] is JsonValue v && v.TryGetValue<int>(out var n) ? n : null);
        var best = epochs.Count == 0 ? null : epochs.FirstOrDefault(e => e.Epoch == t?.BestEpoch) ?? epochs.MaxBy(e => e.ValMacroF1);
        var status = f.Failure is not null ? EntryStatus.Failed
            : writer is not null ? EntryStatus.Running
            : t is not null && (planned is { } p ? t.Completes(p) : autoEpochs && t.Completes(null)) ? EntryStatus.Finished
            : f.HasLast || epochs.Count > 0 ? EntryStatus.Stopped
            : EntryStatus.Pending;
        var device = f.Metadata?["device"] is JsonObject d
            ? (d["device"]?.ToString() is { } dev && dev != "cpu" && d["name"]?.ToString() is { Length: > 0 } name ? $"{dev} ({name})" : d["device"]?.ToString())
            : Cfg(f, "device");
        return new RunRow
        {
            Id = IdOf(dir), Dir = dir, Kind = kind, Parent = parent, Status = status,
            Model = t?.Model ?? Cfg(f, "model"), Loss = t?.Loss ?? Cfg(f, "loss"), ImageSize = t?.ImageSize ?? Cfg(f, "image_size"),
            Precision = f.Metadata?["precision"]?["resolved"]?.ToString() ?? t?.Precision ?? Cfg(f, "precision"),
            Device = device,
            EpochsDone = epochs.Count > 0 ? epochs.Max(e => e.Epoch) : t?.EpochsRun ?? 0, EpochsPlanned = planned,
            ValF1 = Finite(t?.BestValMacroF1 ?? best?.ValMacroF1), ValMaskF1 = Finite(t?.BestValMaskF1 ?? best?.ValMaskF1),
            ValGenderF1 = Finite(t?.BestValGenderF1 ?? best?.ValGenderF1), ValAgeF1 = Finite(t?.BestValAgeF1 ?? best?.ValAgeF1),
            EvalF1 = Finite(f.Summary?.Eval?.MacroF1), EvalMaskF1 = Finite(f.Summary?.Eval?.MaskF1),
            EvalGenderF1 = Finite(f.Summary?.Eval?.GenderF1), EvalAgeF1 = Finite(f.Summary?.Eval?.AgeF1),
            ImagesPerSecond = Finite(t?.TrainImagesPerSecond ?? f.Metrics.ImagesPerSecond),
            WallSeconds = Finite(f.Metadata?["wall_seconds"]?.GetValue<double>() ?? t?.TrainSeconds ?? f.Metrics.Seconds),
            Started = f.Metadata?["start_time"]?.ToString(),
            Torn = f.Metrics.Torn,
            Problem = f.Failure ?? f.SummaryError ?? (f.Config is null ? "config.yaml does not read" : null)
                      ?? (f.Metrics.Torn ? $"metrics.jsonl line {f.Metrics.BadLine} does not read" : null),
            Writer = writer?.ToString(),
            CanPredict = f.HasBest && t is not null,
            CannotPredict = !f.HasBest ? "it has no trained weights to predict with (checkpoints/best.ckpt)"
                : t is null ? (f.SummaryError is { } e ? $"its {e}" : "it has no summary.json yet (it is written when an epoch finishes)")
                : null,
        };
    }

    RunRow KFoldRowOf(string dir, string? parent, IReadOnlyList<RunRow> folds)
    {
        var f = FactsOf(dir);
        var writer = f.HasWriterRecord ? RunFiles.LiveWriter(dir) : null;
        int? planned = CfgInt(f, "folds");
        var oof = f.Summary?.Oof;
        var t = f.Summary?.Training;
        var status = folds.Any(x => x.Status == EntryStatus.Failed) || f.Failure is not null ? EntryStatus.Failed
            : writer is not null || folds.Any(x => x.Status == EntryStatus.Running) ? EntryStatus.Running
            : oof is not null ? EntryStatus.Finished
            : folds.Any(x => x.Status != EntryStatus.Pending) ? EntryStatus.Stopped
            : EntryStatus.Pending;
        double? Mean(Func<RunRow, double?> pick) => folds.Count > 0 && folds.All(x => pick(x) is not null) ? folds.Average(x => pick(x)!.Value) : null;
        return new RunRow
        {
            Id = IdOf(dir), Dir = dir, Kind = EntryKind.KFold, Parent = parent, Status = status,
            Model = t?.Model ?? Cfg(f, "model") ?? folds.FirstOrDefault()?.Model, Loss = t?.Loss ?? Cfg(f, "loss"),
            ImageSize = t?.ImageSize ?? Cfg(f, "image_size"), Precision = folds.FirstOrDefault()?.Precision ?? Cfg(f, "precision"),
            Device = folds.FirstOrDefault()?.Device,
            EpochsDone = folds.Count == 0 ? 0 : folds.Min(x => x.EpochsDone), EpochsPlanned = CfgInt(f, "epochs"),
            ValF1 = Finite(t?.BestValMacroF1) ?? Mean(x => x.ValF1), ValMaskF1 = Finite(t?.BestValMaskF1) ?? Mean(x => x.ValMaskF1),
            ValGenderF1 = Finite(t?.BestValGenderF1) ?? Mean(x => x.ValGenderF1), ValAgeF1 = Finite(t?.BestValAgeF1) ?? Mean(x => x.ValAgeF1),
            EvalF1 = Finite(f.Summary?.Eval?.MacroF1), EvalMaskF1 = Finite(f.Summary?.Eval?.MaskF1),
            EvalGenderF1 = Finite(f.Summary?.Eval?.GenderF1), EvalAgeF1 = Finite(f.Summary?.Eval?.AgeF1),
            OofF1 = Finite(oof?.MacroF1),
            ImagesPerSecond = Mean(x => x.ImagesPerSecond),
            WallSeconds = folds.Count > 0 && folds.All(x => x.WallSeconds is not null) ? folds.Sum(x => x.WallSeconds!.Value) : null,
            Started = folds.Select(x => x.Started).Where(s => s is not null).Order(StringComparer.Ordinal).FirstOrDefault(),
            Torn = folds.Any(x => x.Torn),
            Problem = f.Failure ?? folds.Select(x => x.Problem).FirstOrDefault(p => p is not null),
            Members = planned ?? folds.Count, MembersFinished = folds.Count(x => x.Status == EntryStatus.Finished),
            Writer = writer?.ToString() ?? folds.Select(x => x.Writer).FirstOrDefault(w => w is not null),
            CanPredict = folds.Count > 0 && folds.Count == (planned ?? folds.Count) && folds.All(x => x.CanPredict),
            CannotPredict = folds.Count == 0 || folds.Count != (planned ?? folds.Count) ? $"it has {folds.Count} of its {planned ?? folds.Count} folds"
                : folds.FirstOrDefault(x => !x.CanPredict) is { } fold ? $"{Path.GetFileName(fold.Dir)}: {fold.CannotPredict}"
                : null,
            HasOof = f.HasOof,
        };
    }

    readonly ConcurrentDictionary<string, (long Stamp, int? Planned)> _sweepPlans = new(StringComparer.Ordinal);

    /// <summary>How many runs sweep.yaml plans (settings x seeds), kept until the file changes; null where it does not read.</summary>
    int? PlannedRuns(string dir)
    {
        var spec = new SweepDirectory(dir).SpecFile;
        var stamp = RunFiles.Stamp(spec);
        if (_sweepPlans.TryGetValue(dir, out var known) && known.Stamp == stamp) return known.Planned;
        int? planned;
        try { planned = SweepPlan.Expand(SweepSpec.Load(spec)).Runs.Count; }
        catch (MaskLabInputException) { planned = null; }
        _sweepPlans[dir] = (stamp, planned);
        return planned;
    }

    RunRow SweepRowOf(string dir, string? parent, IReadOnlyList<RunRow> runs)
    {
        var writer = RunFiles.LiveWriter(dir);
        var planned = PlannedRuns(dir);
        int finished = runs.Count(r => r.Status == EntryStatus.Finished);
        var status = writer is not null || runs.Any(r => r.Status == EntryStatus.Running) ? EntryStatus.Running
            : planned is { } p ? (finished + runs.Count(r => r.Status == EntryStatus.Failed) >= p
                ? (runs.Any(r => r.Status == EntryStatus.Failed) ? EntryStatus.Failed : EntryStatus.Finished)
                : runs.Count > 0 ? EntryStatus.Stopped : EntryStatus.Pending)
            : runs.Count > 0 && finished == runs.Count ? EntryStatus.Finished : EntryStatus.Stopped;
        var best = runs.Where(r => r.ValF1 is not null).MaxBy(r => r.ValF1!.Value);
        return new RunRow
        {
            Id = IdOf(dir), Dir = dir, Kind = EntryKind.Sweep, Parent = parent, Status = status,
            Model = Distinct(runs.Select(r => r.Model)), Loss = Distinct(runs.Select(r => r.Loss)),
            ImageSize = Distinct(runs.Select(r => r.ImageSize)), Precision = Distinct(runs.Select(r => r.Precision)),
            Device = Distinct(runs.Select(r => r.Device)),
            EpochsDone = runs.Count == 0 ? 0 : runs.Max(r => r.EpochsDone), EpochsPlanned = runs.Select(r => r.EpochsPlanned).Max(),
            ValF1 = best?.ValF1, ValMaskF1 = best?.ValMaskF1, ValGenderF1 = best?.ValGenderF1, ValAgeF1 = best?.ValAgeF1,
            EvalF1 = best?.EvalF1, EvalMaskF1 = best?.EvalMaskF1, EvalGenderF1 = best?.EvalGenderF1, EvalAgeF1 = best?.EvalAgeF1,
            ImagesPerSecond = runs.Any(r => r.ImagesPerSecond is not null) ? runs.Where(r => r.ImagesPerSecond is not null).Average(r => r.ImagesPerSecond!.Value) : null,
            WallSeconds = runs.Any(r => r.WallSeconds is not null) ? runs.Sum(r => r.WallSeconds ?? 0) : null,
            Started = runs.Select(r => r.Started).Where(s => s is not null).Order(StringComparer.Ordinal).FirstOrDefault(),
            Torn = runs.Any(r => r.Torn),
            Problem = planned is null && File.Exists(new SweepDirectory(dir).SpecFile) ? "sweep.yaml does not read" : null,
            Members = planned ?? runs.Count, MembersFinished = finished,
            Writer = writer?.ToString(),
        };
    }

    /// <summary>The one value every member shares, "several" where they differ, null where none has one.</summary>
    static string? Distinct(IEnumerable<string?> values)
    {
        var set = values.Where(v => v is not null).Distinct().ToList();
        return set.Count switch { 0 => null, 1 => set[0], _ => "several" };
    }
}
