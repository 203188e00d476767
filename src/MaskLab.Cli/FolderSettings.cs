using System.ComponentModel;
using MaskLab.Experiments;
using MaskLab.Runs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli;

/// <summary>
/// <c>--out DIR</c> of a sweep already written (its sweep.yaml), which <c>sweep gather</c> and the Slurm task verb
/// <c>sweep task</c> read: the sweep is the folder's, so they take no --config, --set or --data.
/// </summary>
public abstract class SweepFolderSettings : CommandSettings
{
    [CommandOption("-o|--out <DIR>"), Description("Sweep folder holding sweep.yaml (written when the sweep was first run or submitted)")]
    public string? Out { get; init; }

    public override ValidationResult Validate() =>
        Out is null ? ValidationResult.Error("--out DIR is required (a sweep folder holding sweep.yaml)") : ValidateOptions();

    protected virtual ValidationResult ValidateOptions() => ValidationResult.Success();

    /// <summary>The folder, and the runs its sweep.yaml expands to.</summary>
    public (SweepDirectory Folder, SweepPlan Plan) Read()
    {
        var folder = new SweepDirectory(Out!);
        if (!File.Exists(folder.SpecFile)) throw new MaskLabInputException($"'{folder.Path}' holds no sweep.yaml: submit the sweep first");
        return (folder, SweepPlan.Expand(SweepSpec.Load(folder.SpecFile)));
    }
}

/// <summary>
/// <c>--out RUNDIR</c> of a k-fold run already written (its config.yaml), which <c>train gather</c> and the Slurm task
/// verb <c>train fold</c> read: the config is the run's, so they take no --config, --set, --data or --resume.
/// </summary>
public abstract class KFoldRunSettings : CommandSettings
{
    [CommandOption("-o|--out <RUNDIR>"), Description("k-fold run directory holding config.yaml (written when its folds were submitted)")]
    public string? Out { get; init; }

    public override ValidationResult Validate() =>
        Out is null ? ValidationResult.Error("--out RUNDIR is required (a k-fold run holding config.yaml)") : ValidateOptions();

    protected virtual ValidationResult ValidateOptions() => ValidationResult.Success();

    /// <summary>The run and its config; a run of one fold is refused.</summary>
    public (RunDirectory Run, RunConfig Config) Read()
    {
        var run = new RunDirectory(Out!);
        var config = run.ReadConfig();
        if (config.Folds < 2) throw new MaskLabInputException($"'{run.Path}' is not a k-fold run (folds {config.Folds})");
        return (run, config);
    }
}
