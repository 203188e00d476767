using System.ComponentModel;
using System.Globalization;
using MaskLab.Data.Layout;
using MaskLab.Evaluation;
using MaskLab.Runs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

/// <summary><c>masklab audit --run KFOLD_RUNDIR</c>: likely mislabeled photos from a k-fold run's out-of-fold predictions.</summary>
public sealed class AuditCommand : Command<AuditCommand.Settings>
{
    /// <summary>--run: a k-fold run directory holding oof.csv.</summary>
    public sealed class Settings : RunSettings
    {
        [CommandOption("--method <attribute|confident>"), Description("attribute (default): a photo's mask state, a person's gender or age, flagged at --threshold; confident: confident learning over the classes, photo by photo (cleanlab's prune_by_noise_rate; no threshold)")]
        [TypeConverter(typeof(AuditMethodOption)), DefaultValue("attribute")]
        public AuditMethod Method { get; init; } = AuditMethod.Attribute;

        [CommandOption("--threshold <T>"), Description("Lowest out-of-fold probability off the labelled value to flag (default 0.7)")]
        public double Threshold { get; init; } = 0.7;

        [CommandOption("--top <N>"), Description("Suspects to list in the table (default 30; --json and --fixes hold all)")]
        public int Top { get; init; } = 30;

        [CommandOption("--truth <FILE>"), Description("A synthetic set's train_truth.csv: report precision and recall against its planted wrong labels")]
        public string? Truth { get; init; }

        [CommandOption("--fixes <FILE>"), Description("Write the suggested corrections as a label_fixes CSV (review it before training with it)")]
        public string? Fixes { get; init; }

        protected override ValidationResult ValidateOptions() =>
            Run is null ? ValidationResult.Error("--run is required (a k-fold run directory)")
            : !(Threshold > 0 && Threshold <= 1) ? ValidationResult.Error($"--threshold {Threshold} must be above 0 and at most 1")
            : Top < 0 ? ValidationResult.Error($"--top {Top} must not be negative")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var run = new RunDirectory(s.Run!);
        if (!run.Exists) return Cli.Fail($"run directory '{s.Run}' does not exist");
        if (!File.Exists(run.OofFile))
            return Cli.Fail($"'{s.Run}' has no oof.csv: audit reads the out-of-fold predictions of a finished k-fold run (train with folds: K)");
        if (s.Fixes is { } fixesTarget) Experiments.OutputFile.Check("--fixes", fixesTarget, [run.OofFile, s.Truth]);
        var oof = OofFile.Read(run.OofFile);
        var result = s.Method == AuditMethod.Confident ? ConfidentLearning.Find(oof) : LabelAudit.Find(oof, s.Threshold);

        var table = new Table().Border(TableBorder.Rounded)
            .Title(s.Method == AuditMethod.Confident
                ? "[bold]likely label errors[/] (confident learning, pruned by noise rate; score: margin of the suggested class over the label)"
                : $"[bold]likely label errors[/] (out-of-fold probability off the label >= {s.Threshold.ToString("0.##", CultureInfo.InvariantCulture)})");
        table.AddColumn("person").AddColumn("attribute").AddColumn("labelled").AddColumn("suggested")
            .AddColumn(new TableColumn("score").RightAligned()).AddColumn("photos");
        foreach (var x in result.Suspects.Take(s.Top))
            table.AddRow(Cli.Esc(x.Person), x.Attribute, Cli.Esc(x.Labelled),
                Cli.Esc(x.Suggested) + (x.PredictedAge is { } years ? string.Create(CultureInfo.InvariantCulture, $" (predicted {years:0.#})") : ""), $"{x.Score:F3}",
                x.Photos.Count == 1 ? Cli.Esc(Path.GetFileName(x.Photos[0])) : $"all {x.Photos.Count}");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"{result.Suspects.Count} suspect label(s) covering {result.FlaggedPhotos} of {result.Photos} photos ({result.People} people)" +
                               (result.Suspects.Count > s.Top ? $"; the first {s.Top} listed" : ""));

        AuditScore? score = null;
        if (s.Truth is { } truth)
        {
            score = LabelAudit.Score(result, oof, truth);
            AnsiConsole.MarkupLine($"against {Cli.Esc(truth)}: precision [bold]{score.Precision:F3}[/] ({score.Found} of {score.Flagged} flagged photos are wrong), " +
                                   $"recall [bold]{score.Recall:F3}[/] ({score.Found} of {score.Planted} wrong photos flagged); " +
                                   $"the suggestion is right for {score.SuggestionRight} of the {score.Found}");
            foreach (var (kind, (planted, found)) in score.ByKind.OrderBy(k => k.Key, StringComparer.Ordinal))
                AnsiConsole.MarkupLine($"  {Cli.Esc(kind)}: {found} of {planted} flagged");
        }
        if (s.Fixes is { } fixesFile)
        {
            var fixes = result.Suspects.Where(x => x.Fix is not null)
                .Select(x => (x.Fix!, string.Create(CultureInfo.InvariantCulture, $"audit score {x.Score:F3}: {x.Attribute} {x.Labelled} -> {x.Suggested}")))
                .ToArray();
            LabelFixes.Write(fixesFile, fixes);
            AnsiConsole.MarkupLine($"wrote [bold]{Cli.Esc(fixesFile)}[/]: {fixes.Length} suggested fix(es); review them, then train with label_fixes: {Cli.Esc(fixesFile)}" +
                (s.Method == AuditMethod.Confident ? " (confident learning suggests classes, which a label_fixes row of a person cannot always express: none written)" : ""));
        }
        if (s.Json)
            Cli.WriteJsonLine(new
            {
                run = run.Path, method = ConfigValues.EnumText(s.Method), threshold = s.Method == AuditMethod.Confident ? (double?)null : s.Threshold,
                photos = result.Photos, people = result.People,
                flagged_photos = result.FlaggedPhotos,
                suspects = result.Suspects.Select(x => new
                {
                    person = x.Person, attribute = x.Attribute, labelled = x.Labelled, suggested = x.Suggested, score = x.Score,
                    predicted_age = x.PredictedAge, photos = x.Photos,
                }),
                truth = score is null ? null : new
                {
                    planted = score.Planted, flagged = score.Flagged, found = score.Found, precision = score.Precision,
                    recall = score.Recall, suggestion_right = score.SuggestionRight,
                    by_kind = score.ByKind.ToDictionary(k => k.Key, k => new { planted = k.Value.Planted, found = k.Value.Found }),
                },
            });
        return 0;
    }
}
