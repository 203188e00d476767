using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using MaskLab.Data.Layout;
using MaskLab.Evaluation;
using MaskLab.Runs;

namespace MaskLab.Dashboard;

/// <summary>A review request that cannot be carried out, with the status code and the one line to show.</summary>
public sealed class ReviewException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// Label review of a k-fold run: the audit's suspects (<see cref="LabelAudit"/> over oof.csv) grouped by person, and
/// the reviewer's decisions kept in one <c>label_fixes</c> file (<c>person,field,value,note</c>, the format
/// <see cref="LabelFixes.Load"/> reads) outside every run, written atomically after each decision. An accepted
/// suspect is its suggested fix; a rejected one is a row that keeps the label as it is (training reports it as
/// skipped, "already ..."), so the file alone holds the progress and a later visit starts where the last one left off.
/// Rows the review did not write (added by hand, or from another threshold) are kept as they are.
/// </summary>
public sealed partial class LabelReview(RunCatalog catalog, ServedRoots roots, string reviewsDir)
{
    public const double DefaultThreshold = 0.7;
    static readonly string[] Header = ["person", "field", "value", "note"];
    static readonly ConcurrentDictionary<string, object> FileLocks = new(StringComparer.Ordinal);

    public string ReviewsDir { get; } = reviewsDir;

    /// <summary>
    /// The label_fixes file of the review of <paramref name="id"/>: one per k-fold run, named after its path so that
    /// two runs never share one. The name maps one to one: letters, digits and <c>.=+-</c> stay, <c>/</c> becomes
    /// <c>__</c>, <c>_</c> becomes <c>_u</c> and any other character <c>_x</c> and its UTF-8 bytes in hex; the runs
    /// folder itself (<c>.</c>) is <c>_root</c>, which no path encodes to.
    /// </summary>
    public string FixesFileOf(string id) => Path.Combine(ReviewsDir, FileStem(id) + ".label_fixes.csv");

    /// <summary>The file name stem of <paramref name="id"/>'s review (see <see cref="FixesFileOf"/>).</summary>
    public static string FileStem(string id)
    {
        if (id == ".") return "_root";
        var name = new System.Text.StringBuilder(id.Length + 8);
        Span<byte> bytes = stackalloc byte[4];
        foreach (var rune in id.EnumerateRunes())
        {
            if (rune.Value == '/') name.Append("__");
            else if (rune.Value == '_') name.Append("_u");
            else if (rune.IsAscii && (char.IsAsciiLetterOrDigit((char)rune.Value) || rune.Value is '.' or '=' or '+' or '-')) name.Append((char)rune.Value);
            else
            {
                int n = rune.EncodeToUtf8(bytes);
                name.Append("_x").Append(Convert.ToHexString(bytes[..n]));
            }
        }
        return name.ToString();
    }

    /// <summary>
    /// <see cref="FixesFileOf"/>, after taking over the file an earlier build named for <paramref name="id"/> (it
    /// turned <c>/</c> into <c>__</c> and kept <c>_</c>, so two runs could share one) where no other k-fold run
    /// had that name too: the decisions made before stay with their run.
    /// </summary>
    string ReviewFile(string id)
    {
        var file = FixesFileOf(id);
        var legacyStem = LegacyStem(id);
        var legacy = Path.Combine(ReviewsDir, legacyStem + ".label_fixes.csv");
        if (legacy == file || File.Exists(file) || !File.Exists(legacy)) return file;
        lock (FileLocks.GetOrAdd(file, _ => new object()))
        {
            if (File.Exists(file) || !File.Exists(legacy)) return file;
            if (catalog.Rows().Count(r => r.Kind == EntryKind.KFold && LegacyStem(r.Id) == legacyStem) != 1) return file;
            try { File.Move(legacy, file); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return file;
    }

    static string LegacyStem(string id) => id == "." ? "runs-root" : LegacyUnsafe().Replace(id.Replace("/", "__"), "-");

    [GeneratedRegex("[^A-Za-z0-9._=+-]")]
    private static partial Regex LegacyUnsafe();

    sealed record Suspect(string Key, AuditSuspect Audit, string? KeepValue);

    (RunRow Row, List<Suspect> Suspects, int Photos, int People) Audit(string id, double threshold)
    {
        if (!(threshold > 0 && threshold <= 1)) throw new ReviewException(400, $"threshold {threshold} must be above 0 and at most 1");
        var row = catalog.Row(id) ?? throw new ReviewException(404, $"no run '{id}'");
        if (row.Kind != EntryKind.KFold) throw new ReviewException(400, $"'{id}' is not a k-fold run: the label review reads a k-fold run's out-of-fold predictions (train with folds: K)");
        var oofFile = new RunDirectory(row.Dir).OofFile;
        if (!File.Exists(oofFile)) throw new ReviewException(409, $"'{id}' has no oof.csv yet: it is written when every fold has finished");
        // Every click asks again: keep the audit until oof.csv changes (a competition-sized one is 18,900 rows).
        var stamp = RunFiles.Stamp(oofFile);
        if (_audits.TryGetValue((oofFile, threshold), out var known) && known.Stamp == stamp) return (row, known.Suspects, known.Photos, known.People);
        OofFile.Oof oof;
        try { oof = OofFile.Read(oofFile); }
        catch (MaskLabInputException e) { throw new ReviewException(409, e.Message); }
        var result = LabelAudit.Find(oof, threshold);
        var suspects = result.Suspects.Select(s => new Suspect(KeyOf(s), s, KeepValueOf(s))).ToList();
        if (_audits.Count > 16) _audits.Clear();
        _audits[(oofFile, threshold)] = (stamp, suspects, result.Photos, result.People);
        return (row, suspects, result.Photos, result.People);
    }

    readonly ConcurrentDictionary<(string File, double Threshold), (long Stamp, List<Suspect> Suspects, int Photos, int People)> _audits = new();

    static string KeyOf(AuditSuspect s) => $"{s.Person}/{s.Fix?.Field ?? Path.GetFileNameWithoutExtension(s.Photos[0])}";

    /// <summary>The value that leaves the suspect's label as it is: the labelled gender, age or mask state.</summary>
    static string? KeepValueOf(AuditSuspect s) => s.Attribute switch
    {
        "gender" => s.Labelled,
        "mask" => s.Labelled,
        "age" => LeadingNumber().Match(s.Labelled) is { Success: true } m ? m.Value : null,
        _ => null,
    };

    [GeneratedRegex(@"^\d+")]
    private static partial Regex LeadingNumber();

    sealed record FixRow(string Person, string Field, string Value, string Note);

    /// <summary>The rows of the fixes file in order; the file is first read as training reads it, so a broken file is refused, never overwritten.</summary>
    static List<FixRow> ReadRows(string file)
    {
        if (!File.Exists(file)) return [];
        try { LabelFixes.Load(file); }
        catch (MaskLabInputException e) { throw new ReviewException(409, $"{e.Message} (fix or move the file; the review will not overwrite it)"); }
        var table = CsvTable.ReadAll(file);
        int p = table.IndexOf("person"), f = table.IndexOf("field"), v = table.IndexOf("value"), n = table.IndexOf("note");
        return table.Rows.Select(r =>
        {
            string Get(int i) => i >= 0 ? r.Values[i] : "";
            return new FixRow(Get(p), Get(f).ToLowerInvariant(), Get(v).ToLowerInvariant(), Get(n));
        }).ToList();
    }

    static string DecisionOf(Suspect s, IReadOnlyList<FixRow> rows)
    {
        var r = rows.FirstOrDefault(x => x.Person == s.Audit.Person && x.Field == (s.Audit.Fix?.Field ?? ""));
        if (r is null) return "open";
        if (s.Audit.Fix is { } fix && r.Value == fix.Value.ToLowerInvariant()) return "accepted";
        if (s.KeepValue is { } keep && r.Value == keep.ToLowerInvariant()) return "rejected";
        return "other";
    }

    public object Build(string id, double threshold)
    {
        var (row, suspects, photos, people) = Audit(id, threshold);
        var file = ReviewFile(id);
        string? fileError = null;
        List<FixRow> rows = [];
        try { rows = ReadRows(file); }
        catch (ReviewException e) { fileError = e.Message; }
        var items = suspects.Select(s => new
        {
            key = s.Key,
            person = s.Audit.Person,
            folder = Path.GetFileName(Path.GetDirectoryName(s.Audit.Photos[0])),
            attribute = s.Audit.Attribute,
            labelled = s.Audit.Labelled,
            suggested = s.Audit.Suggested,
            score = s.Audit.Score,
            threshold,
            predictedAge = s.Audit.PredictedAge,
            canFix = s.Audit.Fix is not null && s.KeepValue is not null,
            decision = DecisionOf(s, rows),
            existing = rows.FirstOrDefault(x => x.Person == s.Audit.Person && x.Field == (s.Audit.Fix?.Field ?? ""))?.Value,
            photos = s.Audit.Photos.Select(p => new { url = roots.UrlOf(p), name = Path.GetFileName(p) }).ToArray(),
        }).ToList();
        return new
        {
            row,
            threshold,
            fixesFile = file,
            fileError,
            photos,
            people,
            trainCommand = $"masklab train --set label_fixes={file}",
            counts = Counts(items.Select(i => i.decision)),
            groups = items.GroupBy(i => i.person).Select(g => new { person = g.Key, folder = g.First().folder, items = g.ToArray() }).ToArray(),
        };
    }

    static object Counts(IEnumerable<string> decisions)
    {
        var list = decisions.ToList();
        return new
        {
            total = list.Count, accepted = list.Count(d => d == "accepted"), rejected = list.Count(d => d == "rejected"),
            other = list.Count(d => d == "other"), open = list.Count(d => d == "open"),
        };
    }

    /// <summary>
    /// Records one decision on the suspect <paramref name="key"/>: accept (write its fix), reject (write a row keeping
    /// the label) or undo (remove the row). The whole file is rewritten atomically under a lock, so two tabs
    /// deciding at once lose nothing.
    /// </summary>
    public object Decide(string id, string key, string decision, double threshold)
    {
        if (decision is not ("accept" or "reject" or "undo"))
            throw new ReviewException(400, $"decision '{decision}' must be accept, reject or undo");
        var (_, suspects, _, _) = Audit(id, threshold);
        var s = suspects.FirstOrDefault(x => x.Key == key) ?? throw new ReviewException(404, $"no suspect '{key}' in the review of '{id}' at threshold {threshold.ToString(CultureInfo.InvariantCulture)}");
        if (s.Audit.Fix is not { } fix || s.KeepValue is not { } keep)
            throw new ReviewException(400, $"suspect '{key}' is not on the 18 task classes: no label_fixes row can express it");
        var file = ReviewFile(id);
        lock (FileLocks.GetOrAdd(file, _ => new object()))
        {
            var rows = ReadRows(file);
            rows.RemoveAll(r => r.Person == fix.Person && r.Field == fix.Field);
            var score = s.Audit.Score.ToString("0.000", CultureInfo.InvariantCulture);
            if (decision == "accept")
                rows.Add(new FixRow(fix.Person, fix.Field, fix.Value, $"review accepted (audit score {score}): {s.Audit.Attribute} {s.Audit.Labelled} -> {s.Audit.Suggested}"));
            else if (decision == "reject")
                rows.Add(new FixRow(fix.Person, fix.Field, keep, $"review rejected (audit score {score}): {s.Audit.Attribute} kept as {s.Audit.Labelled}"));
            Directory.CreateDirectory(ReviewsDir);
            LabelFixes.Write(file, rows.Select(r => (new LabelFix(r.Person, r.Field, r.Value, "review"), r.Note)));
            return new { key, decision = DecisionOf(s, rows), fixesFile = file, counts = Counts(suspects.Select(x => DecisionOf(x, rows))) };
        }
    }
}
