using System.Globalization;
using MaskLab.Data.Layout;
using MaskLab.Evaluation;
using MaskLab.Runs;
using MaskLab.Training;

namespace MaskLab.Experiments;

/// <summary>
/// What <c>masklab clean</c> does beyond the run config: how many folds find the suspects, the audit's threshold, and
/// whether to stop for a review once the fixes are written.
/// </summary>
/// <param name="Folds">Folds of the auditing k-fold run (2 or more).</param>
/// <param name="Threshold">The attribute audit's threshold (<see cref="LabelAudit.Find"/>).</param>
/// <param name="ReviewFirst">Stop after writing the suggested fixes, so they can be reviewed before the final run.</param>
public sealed record CleaningOptions(int Folds = 3, double Threshold = LabelCleaning.DefaultThreshold, bool ReviewFirst = false)
{
    public void Validate()
    {
        if (Folds < 2 || Folds > 20) throw new MaskLabInputException($"folds {Folds} must be 2..20");
        if (!(Threshold > 0 && Threshold <= 1)) throw new MaskLabInputException($"threshold {Threshold} must be above 0 and at most 1");
    }
}

/// <summary>What a cleaning came to: the audit's fixes, and the final run's outcome (null when it stopped for review).</summary>
public sealed record CleaningOutcome(int Suspects, int Fixes, int KeptFromConfig, string FixesFile, RunOutcome? Final);

/// <summary>
/// From noisy labels to a cleaner model in one pass, each stage a folder of its own under the output folder, so an
/// interrupted cleaning resumes where it stopped: <c>kfold/</c> (the run config as a k-fold run, whose out-of-fold
/// probabilities the audit reads), <c>label_fixes.csv</c> (the attribute audit's suggestions at the threshold, after
/// the config's own label_fixes, which win where both name a person's field), and <c>final/</c> (the run config
/// trained on all the data with those fixes). A <c>label_fixes.csv</c> already there is used as it is: it may have
/// been reviewed.
/// </summary>
public sealed class LabelCleaning(RunConfig config, string outDir, CleaningOptions options, ITrainingObserver? observer = null)
{
    /// <summary>The audit threshold the cleaning applies fixes at, the audit's own default.</summary>
    public const double DefaultThreshold = 0.7;

    readonly ITrainingObserver observer = observer ?? SilentObserver.Instance;

    public RunDirectory KFold => new(Path.Combine(outDir, "kfold"));
    public RunDirectory Final => new(Path.Combine(outDir, "final"));
    public string FixesFile => Path.Combine(Path.GetFullPath(outDir), "label_fixes.csv");

    public CleaningOutcome Run(CancellationToken ct = default, RunEnd? end = null)
    {
        options.Validate();
        config.Validate();
        if (config.Folds > 1 || config.Fold >= 0)
            throw new MaskLabInputException($"clean trains its own {options.Folds}-fold run to audit: leave folds out of the config (it has folds {config.Folds})");
        // Checked before anything trains: the fixes file is never an input, a run's file or inside the data set.
        if (!File.Exists(FixesFile)) OutputFile.Check("--out", FixesFile, [config.DataSection.LabelFixes], [config.Data]);
        Directory.CreateDirectory(outDir);

        int suspects = 0, fixes = 0, kept = 0;
        if (File.Exists(FixesFile))
        {
            // Read as training will read it: a damaged or hand-broken file is named before anything trains on it.
            fixes = LabelFixes.Load(FixesFile).Count;
            observer.Stage($"{FixesFile} is there ({fixes} fix(es)): used as it is, reviewed or not");
        }
        else
        {
            var oof = AuditRun(ct);
            var audit = LabelAudit.Find(oof, options.Threshold);
            suspects = audit.Suspects.Count;
            var (rows, fromConfig) = Merge(config.DataSection.LabelFixes is { } own ? LabelFixes.Load(own) : [], audit);
            kept = fromConfig;
            fixes = rows.Count;
            LabelFixes.Write(FixesFile, rows);
            observer.Stage($"audit at {options.Threshold.ToString("0.##", CultureInfo.InvariantCulture)}: {suspects} suspect(s) over {audit.FlaggedPhotos} photo(s); {fixes} fix(es) written to {FixesFile}");
        }
        if (options.ReviewFirst) return new CleaningOutcome(suspects, fixes, kept, FixesFile, null);

        var finalConfig = config.Clone();
        finalConfig.LabelFixes = FixesFile;
        observer.Stage($"final run with {fixes} fix(es) → {Final.Path}");
        var outcome = new RunJob(finalConfig, Final, observer).Run(ct, end);
        return new CleaningOutcome(suspects, fixes, kept, FixesFile, outcome);
    }

    /// <summary>The auditing k-fold run's out-of-fold probabilities, training what is missing of it.</summary>
    OofFile.Oof AuditRun(CancellationToken ct)
    {
        if (!File.Exists(KFold.OofFile))
        {
            var kfoldConfig = config.Clone();
            kfoldConfig.Folds = options.Folds;
            kfoldConfig.Fold = -1;
            observer.Stage($"{options.Folds}-fold run to audit the labels → {KFold.Path}");
            // Its eval prediction is a by-product worth keeping: the folds' ensemble on the noisy labels.
            if (new CrossValidation(kfoldConfig, KFold, observer).Run(ct, new RunEnd(Report: false)) is null)
                throw new MaskLabInputException($"'{KFold.Path}' did not finish every fold");
        }
        return OofFile.Read(KFold.OofFile);
    }

    /// <summary>
    /// The config's own fixes first (they are what the k-fold run trained on, so the audit's labels already include
    /// them), then each audit fix for a person's field the config's do not name; with the note each row will carry.
    /// </summary>
    public static (List<(LabelFix Fix, string Note)> Rows, int FromConfig) Merge(IReadOnlyList<LabelFix> own, AuditResult audit)
    {
        var rows = own.Select(f => (f, $"from the config ({f.Source})")).ToList();
        var named = own.Select(f => (f.Person, f.Field)).ToHashSet();
        foreach (var s in audit.Suspects)
            if (s.Fix is { } fix && named.Add((fix.Person, fix.Field)))
                rows.Add((fix, string.Create(CultureInfo.InvariantCulture, $"audit score {s.Score:F3}: {s.Attribute} {s.Labelled} -> {s.Suggested}")));
        return (rows, own.Count);
    }
}
