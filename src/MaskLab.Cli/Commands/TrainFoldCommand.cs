using System.ComponentModel;
using MaskLab.Experiments;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

/// <summary>
/// <c>masklab train fold --out RUNDIR --fold-index K</c> (hidden): trains fold K of the k-fold run in RUNDIR (its
/// config.yaml) and nothing else, what each Slurm array task runs.
/// </summary>
public sealed class TrainFoldCommand : Command<TrainFoldCommand.Settings>
{
    public sealed class Settings : KFoldRunSettings
    {
        [CommandOption("--fold-index <K>"), Description("The fold to train, 0-based (the Slurm array index)")]
        public int? FoldIndex { get; init; }

        protected override ValidationResult ValidateOptions() =>
            FoldIndex is null ? ValidationResult.Error("--fold-index K is required (the fold to train, 0-based)") : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var (run, config) = s.Read();
        int k = s.FoldIndex!.Value;
        var cv = new CrossValidation(config, run, TrainingView.Observer);
        // A Slurm task's time limit sends SIGTERM: the fold stops at its next safe point and the next submission resumes it.
        return CtrlC.Run(cancellation, token =>
        {
            TrainingView.Run(() => { cv.RunFold(k, token); return 0; });
            AnsiConsole.MarkupLine($"fold {k} trained into [bold]{Cli.Esc(run.Fold(k).Path)}[/]");
            return 0;
        }, () => $"fold {k} interrupted; the last finished epoch is kept and the next submission resumes it");
    }
}
