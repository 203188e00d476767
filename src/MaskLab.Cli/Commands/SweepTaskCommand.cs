using System.ComponentModel;
using MaskLab.Experiments;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

/// <summary>
/// <c>masklab sweep task --out DIR --run-index I</c> (hidden): trains run I of the sweep in DIR and nothing else, what each
/// Slurm array task runs. Exit 1 when the run diverged (recorded in failure.txt).
/// </summary>
public sealed class SweepTaskCommand : Command<SweepTaskCommand.Settings>
{
    public sealed class Settings : SweepFolderSettings
    {
        [CommandOption("--run-index <I>"), Description("The run to train, 0-based (the Slurm array index)")]
        public int? RunIndex { get; init; }

        [CommandOption("--tta"), Description("Where the data has an eval/ folder, average the flipped view when the run predicts it")]
        public bool Tta { get; init; }

        protected override ValidationResult ValidateOptions() =>
            RunIndex is null ? ValidationResult.Error("--run-index I is required (the run to train, 0-based)") : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var (folder, plan) = s.Read();
        int index = s.RunIndex!.Value;
        return CtrlC.Run(cancellation, token =>
        {
            var row = TrainingView.Run(() => new Sweep(plan, folder.Path, TrainingView.Observer, new SweepCommand.SweepView(), s.Tta).RunOne(index, token));
            return row.Failure is null ? 0 : Cli.Fail($"run {index} ({row.Name}) failed: {row.Failure}", 1);
        }, () => $"run {index} interrupted; the last finished epoch is kept and the next submission resumes it");
    }
}
