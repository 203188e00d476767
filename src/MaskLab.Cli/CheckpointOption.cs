using MaskLab.Evaluation;
using Spectre.Console;

namespace MaskLab.Cli;

/// <summary>The --checkpoint option of the verbs that load trained weights (eval, predict).</summary>
public static class CheckpointOption
{
    public static ValidationResult Validate(string value) => value is "best" or "last"
        ? ValidationResult.Success()
        : ValidationResult.Error($"--checkpoint '{value}' is not best or last");

    public static CheckpointChoice Parse(string value) => value == "last" ? CheckpointChoice.Last : CheckpointChoice.Best;
}
