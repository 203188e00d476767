using System.ComponentModel;
using MaskLab.Evaluation;
using MaskLab.Runs;
using MaskLab.Platform;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli;

// Options that several verbs share, each declared once: a verb's settings derive from the set it takes.
//   JsonSettings          --json
//   ├ DeviceSettings      --device                      (bench, device)
//   └ RunSettings         -r|--run                      (audit, ceiling, ensemble, export)
//     └ TrainedRunSettings  --device, --checkpoint      (eval, predict: trained weights loaded on a device)
// Spectre binds only the properties of one class chain, so --device is declared twice, both through DeviceOption.

/// <summary><c>--json</c>: one JSON object as the last line of stdout (the contract's form).</summary>
public abstract class JsonSettings : CommandSettings
{
    [CommandOption("--json"), Description("Also print the result as one JSON object on the last line of stdout")]
    public bool Json { get; init; }
}

/// <summary><c>--device</c>, read into a <see cref="DeviceChoice"/> when the command line is parsed.</summary>
public abstract class DeviceSettings : JsonSettings
{
    [CommandOption(DeviceOption.Template), Description(DeviceOption.Help), TypeConverter(typeof(DeviceOption)), DefaultValue("auto")]
    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;
}

/// <summary>
/// <c>-r|--run RUNDIR</c>: the runs a verb reads. Verbs that combine runs take it repeated; the others refuse a second.
/// </summary>
public abstract class RunSettings : JsonSettings
{
    [CommandOption("-r|--run <RUNDIR>"), Description("Run directory: a trained run, or a k-fold run (its root stands for its folds). Repeat it where the verb combines runs")]
    public string[] Runs { get; init; } = [];

    /// <summary>Whether this verb combines several runs (predict, ensemble, ceiling).</summary>
    protected virtual bool TakesSeveralRuns => false;

    /// <summary>The one run of a verb that takes one; null where none was given.</summary>
    public string? Run => Runs.Length > 0 ? Runs[0] : null;

    public sealed override ValidationResult Validate() =>
        !TakesSeveralRuns && Runs.Length > 1 ? ValidationResult.Error($"--run is given {Runs.Length} times; this verb reads one run")
        : ValidateOptions();

    /// <summary>The verb's own checks, after the run count's.</summary>
    protected virtual ValidationResult ValidateOptions() => ValidationResult.Success();
}

/// <summary>Trained runs whose weights a verb loads: which checkpoint, on which device.</summary>
public abstract class TrainedRunSettings : RunSettings
{
    [CommandOption(DeviceOption.Template), Description(DeviceOption.Help), TypeConverter(typeof(DeviceOption)), DefaultValue("auto")]
    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;

    [CommandOption("--checkpoint <best|last>"), Description("Weights of each run: best (the best validation epoch's) or last; default: the run's eval_checkpoint, the weights of its own eval prediction"), TypeConverter(typeof(CheckpointOption))]
    public CheckpointChoice? Checkpoint { get; init; }
}
