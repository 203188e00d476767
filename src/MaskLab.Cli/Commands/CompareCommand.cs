using System.ComponentModel;
using MaskLab.Tracking;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

/// <summary><c>masklab compare RUNDIR...</c>: the comparison table of runs in the terminal.</summary>
public sealed class CompareCommand : Command<CompareCommand.Settings>
{
    public sealed class Settings : JsonSettings
    {
        [CommandArgument(0, "<RUNDIR>")]
        [Description("Run directories; a folder of runs (a sweep, a k-fold run) stands for all runs below it")]
        public string[] Runs { get; set; } = [];

        [CommandOption("--sort <COLUMN>")]
        [Description("Sort by: f1 (best val macro F1, the default, highest first), name, or speed (train images/s)")]
        [DefaultValue("f1")]
        [TypeConverter(typeof(CompareOrderOption))]
        public CompareOrder Sort { get; set; } = CompareOrder.F1;

        public override ValidationResult Validate() =>
            Runs.Length == 0 ? ValidationResult.Error("compare needs at least one RUNDIR")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var cmp = new RunComparison(RunSet.Expand(settings.Runs));
        var rows = settings.Sort switch
        {
            CompareOrder.Name => cmp.Rows.OrderBy(r => r.Run.Name, StringComparer.Ordinal).ToList(),
            CompareOrder.Speed => cmp.Rows.OrderByDescending(r => r.ImagesPerSecond ?? double.MinValue).ToList(),
            _ => cmp.Rows.OrderByDescending(r => r.MacroF1 ?? double.MinValue).ToList(),
        };
        var table = new Table().Border(TableBorder.Rounded).AddColumn("run");
        foreach (var k in cmp.Keys) table.AddColumn(Cli.Esc(k));
        foreach (var k in RunComparison.ScoreHeaders) table.AddColumn(new TableColumn(Cli.Esc(k)).RightAligned());
        foreach (var r in rows)
            table.AddRow([Cli.Esc(r.Run.Name), .. r.Settings.Select(v => Cli.Esc(v ?? "")), .. RunComparison.ScoreCells(r).Select(Cli.Esc)]);
        AnsiConsole.Write(table);
        foreach (var s in cmp.Spreads)
            AnsiConsole.MarkupLine($"seed spread [bold]{Cli.Esc(s.Setting)}[/]: {s.Scores.Count} seeds, mean {s.Mean:0.0000} ± {s.Std:0.0000} (min {s.Min:0.0000}, max {s.Max:0.0000})");
        if (settings.Json)
            Cli.WriteJsonLine(new
            {
                runs = rows.Select(r => new
                {
                    name = r.Run.Name, dir = r.Run.Dir,
                    settings = cmp.Keys.Zip(r.Settings).ToDictionary(p => p.First, p => p.Second),
                    best_val_macro_f1 = r.MacroF1, mask_f1 = r.MaskF1, gender_f1 = r.GenderF1, age_f1 = r.AgeF1,
                    best_epoch = r.BestEpoch, epochs = r.Epochs, train_images_per_second = r.ImagesPerSecond,
                }),
                seed_spread = cmp.Spreads.Select(s => new { setting = s.Setting, seeds = s.Seeds, mean = s.Mean, std = s.Std, min = s.Min, max = s.Max }),
            });
        return 0;
    }
}
