using System.ComponentModel;
using MaskLab.Experiments;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

/// <summary><c>masklab sweep status DIR</c>: each run's state in a sweep folder or k-fold run.</summary>
public sealed class SweepStatusCommand : Command<SweepStatusCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<DIR>"), Description("A sweep folder or a k-fold run directory")]
        public string Dir { get; init; } = "";
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var batch = SlurmBatch.Open(s.Dir);
        SlurmView.ShowStatus(batch, SlurmStatus.Of(batch));
        return 0;
    }
}
