using System.ComponentModel;
using System.Globalization;
using MaskLab.Evaluation;
using MaskLab.Runs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

/// <summary><c>masklab ensemble --run KFOLD --run KFOLD ...</c>: blend weights picked on out-of-fold probabilities.</summary>
public sealed class EnsembleCommand : Command<EnsembleCommand.Settings>
{
    /// <summary>--run: k-fold run directories holding oof.csv, repeated; all must share data, seed and folds.</summary>
    public sealed class Settings : RunSettings
    {
        protected override bool TakesSeveralRuns => true;

        [CommandOption("--step <S>"), Description("Grid step of the weight search on the simplex (default 0.1)")]
        public double Step { get; init; } = 0.1;

        [CommandOption("--vote <soft|hard>"), Description("How the blend combines the runs (default soft)")]
        [TypeConverter(typeof(VoteOption)), DefaultValue("soft")]
        public Vote Vote { get; init; } = Vote.Soft;

        protected override ValidationResult ValidateOptions() =>
            Runs.Length == 0 ? ValidationResult.Error("--run is required (a k-fold run directory; repeat it)")
            : !(Step > 0 && Step <= 1) ? ValidationResult.Error($"--step {Step} must be in (0, 1]")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var result = OofBlend.Fit(s.Runs, s.Step, s.Vote);
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]out-of-fold blend[/]");
        table.AddColumn("run").AddColumn(new TableColumn("OOF macro F1").RightAligned()).AddColumn(new TableColumn("weight").RightAligned());
        for (int k = 0; k < s.Runs.Length; k++)
            table.AddRow(Cli.Esc(s.Runs[k]), $"{result.RunMacroF1[k]:F4}", $"{result.Weights[k]:0.###}");
        table.AddRow("[bold]blend[/]", $"[bold]{result.BlendMacroF1:F4}[/]", "");
        AnsiConsole.Write(table);
        var weights = string.Join(",", result.Weights.Select(w => w.ToString("0.###", CultureInfo.InvariantCulture)));
        AnsiConsole.MarkupLine($"predict with: [bold]--weights {weights}[/] (predict shares each k-fold run's weight among its folds)");
        if (s.Json)
            Cli.WriteJsonLine(new
            {
                runs = s.Runs, run_oof_macro_f1 = result.RunMacroF1, weights = result.Weights,
                oof_macro_f1 = result.BlendMacroF1, vote = ConfigValues.EnumText(s.Vote),
            });
        return 0;
    }
}
