using System.ComponentModel;
using MaskLab.Evaluation;
using MaskLab.Experiments;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

/// <summary>
/// <c>masklab train gather --out RUNDIR</c>: the finished folds of a k-fold run gathered into oof.csv, summary.json and
/// the eval prediction (what the Slurm gathering job runs). Exit 1, naming each, while a fold is not finished.
/// </summary>
public sealed class TrainGatherCommand : Command<TrainGatherCommand.Settings>
{
    public sealed class Settings : KFoldRunSettings
    {
        [CommandOption("--tta"), Description("Average the flipped view when predicting the eval set")]
        public bool Tta { get; init; }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var (run, config) = s.Read();
        var cv = new CrossValidation(config, run, TrainingView.Observer);
        var missing = cv.MissingFolds();
        if (missing.Count > 0)
        {
            var status = SlurmStatus.Of(SlurmBatch.ForFolds(run, config));
            return Cli.Fail($"out-of-fold scores need every fold; not finished: {string.Join("; ", missing.Select(m => $"fold-{m}: {(status.Runs[m].Phase == SlurmRunPhase.Failed ? "failed: " : "")}{status.Runs[m].Detail}"))}", 1);
        }
        return CtrlC.Run(cancellation, token =>
        {
            var outcome = TrainingView.Run(() => cv.GatherFolds(token, new RunEnd(Tta: s.Tta, PredictProgress: TrainingView.PredictProgress)));
            TrainingView.ShowOutcome(outcome, run);
            return 0;
        }, () => $"interrupted before the folds were gathered; gather them again with masklab train gather --out {run.Path}");
    }
}
