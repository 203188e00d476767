using System.ComponentModel;
using MaskLab.Experiments;
using MaskLab.Runs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

public sealed class SweepCommand : Command<SweepCommand.Settings>
{
    public sealed class Settings : ExecutorSettings
    {
        [CommandOption("-c|--config <FILE>"), Description("Sweep file: base (config path or inline keys), set, seeds, grid and / or runs (see configs/loss-study.yaml)")]
        public string? Config { get; init; }

        [CommandOption("-o|--out <DIR>"), Description("Sweep folder: one run directory per setting and seed, sweep.yaml, results.csv, summary.md. Run again on the same folder to continue a killed sweep")]
        public string? Out { get; init; }

        [CommandOption("-d|--data <DIR>"), Description("Data for every run (overrides the base's data key). Default: the base's data, or the embedded synthetic set")]
        public string? Data { get; init; }

        [CommandOption("-s|--set <KEY=VALUE>"), Description("Override a base config key for every run, repeatable (applied after the file's set)")]
        public string[] Set { get; init; } = [];

        [CommandOption("--tta"), Description("Where the data has an eval/ folder, average the flipped view when each run predicts it")]
        public bool Tta { get; init; }

        [CommandOption("--dry-run"), Description("List the runs and whether each is finished, unfinished or not started; train nothing")]
        public bool DryRun { get; init; }

    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        if (s.Config is null) return Cli.Fail("--config FILE is required (a sweep file, e.g. configs/loss-study.yaml)");
        if (s.Out is null) return Cli.Fail("--out DIR is required (the sweep folder)");
        OutFolder.Check(s.Out, FolderKind.Sweep);
        if (!s.OnSlurm && s.SlurmOnlyOptionGiven() is { } slurmOnly) return Cli.Fail($"{slurmOnly} is for --executor slurm");
        var spec = SweepSpec.Load(s.Config, s.Set, s.Data);
        var plan = SweepPlan.Expand(spec);
        int settings = plan.SettingCount;
        AnsiConsole.MarkupLine($"[bold]masklab sweep[/] {settings} setting(s) x {spec.Seeds.Count} seed(s) = {plan.Runs.Count} runs → {Cli.Esc(Path.GetFullPath(s.Out))}");
        if (s.OnSlurm && !s.DryRun) return Submit(s, spec, plan);

        if (s.DryRun)
        {
            foreach (var run in plan.Runs)
                AnsiConsole.MarkupLine($"  {Cli.Esc(run.Name)}  [grey]{RunStates.Of(new SweepDirectory(s.Out).Run(run), run.Config.Epochs)}[/]");
            return 0;
        }

        var observer = new SweepView();
        return CtrlC.Run(cancellation, token =>
        {
            var rows = TrainingView.Run(() => new Sweep(plan, s.Out, TrainingView.Observer, observer, s.Tta).Run(spec, token));
            ShowTable(plan, rows);
            AnsiConsole.MarkupLine($"[grey]≈ best: within the seed spread of the best (best mean - mean <= best std + own std)[/]");
            AnsiConsole.MarkupLine($"sweep: [bold]{Cli.Esc(Path.GetFullPath(s.Out))}[/] (results.csv, summary.md, sweep.yaml, one run directory per run)");
            var failed = rows.Where(r => r.Failure is not null).ToList();
            if (failed.Count > 0)
                return Cli.Fail($"{failed.Count} of {plan.Runs.Count} runs failed ({string.Join("; ", failed.Select(f => $"{f.Name}: {f.Failure}"))}); the table holds the others. To retry one with other settings, change the sweep file; to retry as it is, delete its run folder", 1);
            return 0;
        }, () => $"interrupted after {observer.Finished} of {plan.Runs.Count} runs; continue with ./masklab sweep --config {s.Config} --out {s.Out}");
    }

    static int Submit(Settings s, SweepSpec spec, SweepPlan plan)
    {
        var options = s.SlurmOptions();
        var batch = SlurmExecutor.PrepareSweep(spec, plan, s.Out!, options);
        // The array index goes last: each task's script appends it.
        string[] task = [.. SlurmView.Self(), "sweep", "task", "--out", batch.Folder, .. (s.Tta ? new[] { "--tta" } : []), "--run-index"];
        string[] gather = [.. SlurmView.Self(), "sweep", "gather", "--out", batch.Folder];
        var submission = SlurmExecutor.Submit(batch, options, task, gather, Environment.CurrentDirectory);
        SlurmView.ShowSubmission(batch, submission, $"masklab sweep status {batch.Folder}");
        return 0;
    }

    /// <summary>Mean ± std of val macro F1 over seeds, one row per setting.</summary>
    internal static void ShowTable(SweepPlan plan, IReadOnlyList<SweepRow> rows)
    {
        var summary = SweepStatistics.Summarize(rows);
        var (header, body) = SweepReport.SummaryTable(plan.VariedKeys, summary);
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]val macro F1 over seeds (mean ± std)[/]");
        foreach (var h in header) table.AddColumn(new TableColumn(Cli.Esc(h)));
        foreach (var row in body) table.AddRow(row.Select(Cli.Esc).ToArray());
        AnsiConsole.Write(table);
    }

    /// <summary>A line per run as the sweep reaches it, and its result.</summary>
    internal sealed class SweepView : ISweepObserver
    {
        public int Finished { get; private set; }
        public string? Current { get; private set; }

        public void RunStarting(SweepRun run, int index, int total, RunState state)
        {
            Current = run.Name;
            var what = state switch
            {
                RunState.Finished => "[grey]finished, skipped[/]",
                RunState.Failed => "[red]failed before[/] [grey](failure.txt), skipped; delete its folder to retry[/]",
                RunState.Unfinished => "[yellow]resuming[/]",
                _ => "starting",
            };
            AnsiConsole.MarkupLine($"[bold]run {index + 1}/{total}[/] {Cli.Esc(run.Name)}: {what}");
        }

        public void RunFinished(SweepRun run, int index, int total, RunSummary summary, bool skipped)
        {
            Finished++;
            if (!skipped)
                AnsiConsole.MarkupLine($"  val macro F1 [bold]{summary.Training.BestValMacroF1:F4}[/] at epoch {summary.Training.BestEpoch}, {summary.Training.TrainSeconds:F0} s"
                    + (summary.Eval?.MacroF1 is { } e ? $"; eval macro F1 [bold]{e:F4}[/]" : ""));
        }

        public void RunFailed(SweepRun run, int index, int total, string reason)
        {
            Finished++;
            AnsiConsole.MarkupLine($"  [red]failed:[/] {Cli.Esc(reason)}; the sweep goes on");
        }
    }
}
