using MaskLab.Experiments;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

/// <summary>
/// <c>masklab sweep gather --out DIR</c>: results.csv and summary.md from the run directories, training nothing (what
/// the Slurm gathering job runs). A run whose task ended without finishing it is listed as failed.
/// </summary>
public sealed class SweepGatherCommand : Command<SweepGatherCommand.Settings>
{
    public sealed class Settings : SweepFolderSettings;

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var (folder, plan) = s.Read();
        var status = SlurmStatus.Of(SlurmBatch.ForSweep(folder, plan));
        var failures = status.Runs.Where(r => r.EndedUnfinished).ToDictionary(r => r.Unit.Index, r => r.Detail);
        var rows = new Sweep(plan, folder.Path).Gather(failures);
        SweepCommand.ShowTable(plan, rows);
        var failed = rows.Where(r => r.Failure is not null).ToList();
        AnsiConsole.MarkupLine($"gathered {rows.Count - failed.Count} finished and {failed.Count} failed of {plan.Runs.Count} runs into {Cli.Esc(folder.ResultsFile)} and {Cli.Esc(folder.SummaryFile)}");
        foreach (var f in failed) AnsiConsole.MarkupLine($"  [red]failed:[/] {Cli.Esc(f.Name)}: {Cli.Esc(f.Failure!)}");
        return 0;
    }
}
