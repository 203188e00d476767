using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaskLab.Evaluation;
using MaskLab.Runs;
using MaskLab.Synthetic;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

/// <summary><c>masklab ceiling [--data DIR] [--run RUNDIR]... [--json]</c>: the most a model could reach on a synthetic set.</summary>
public sealed class CeilingCommand : Command<CeilingCommand.Settings>
{
    /// <summary>--run: runs on that set whose eval scores to put beside the ceiling, as a fraction of it.</summary>
    public sealed class Settings : RunSettings
    {
        protected override bool TakesSeveralRuns => true;

        [CommandOption("-d|--data <DIR>"), Description("A synthetic set (masklab synth); default: the embedded default set of the main job")]
        public string? Data { get; init; }

        [CommandOption("--fit-people <N>"), Description("Training people to fit the cue classifiers on, drawn from the set's generator (latent values only, not painted); 0 fits on the set's own training people, whose few hundred leave the fit's error in the figure"), DefaultValue(Ceiling.DefaultFitPeople)]
        public int FitPeople { get; init; } = Ceiling.DefaultFitPeople;

        protected override ValidationResult ValidateOptions() =>
            FitPeople is < 0 or > Synthetic.SynthOptions.MaxPeople || FitPeople is > 0 and < Ceiling.MinFitPeople
                ? ValidationResult.Error($"--fit-people {FitPeople} must be 0 (the set's own training people) or {Ceiling.MinFitPeople}..{Synthetic.SynthOptions.MaxPeople}")
                : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var defaults = RunConfig.Load(null);
        var dir = s.Data ?? DefaultData.FolderFor(DefaultData.Options(defaults.SynthPeople, defaults.SynthEvalPeople));
        if (!Directory.Exists(dir))
            throw new MaskLabInputException(s.Data is null
                ? $"the embedded default set is not generated yet ({dir}): run ./masklab train once, or pass --data DIR"
                : $"data folder '{dir}' does not exist");
        var runs = s.Runs.Select(r => (Path: r, Summary: new RunDirectory(r).ReadSummary()
            ?? throw new MaskLabInputException($"run '{r}' has no summary.json"))).ToArray();
        foreach (var (path, summary) in runs)
            if (summary.Eval?.MacroF1 is null) throw new MaskLabInputException($"run '{path}' has no eval score (its data had no eval answers)");

        var result = TrainingView.Run(() => Ceiling.Estimate(dir, s.FitPeople, stage => TrainingView.Observer.Stage(stage)));
        // Kept so that the end of a training run and its report can say what fraction of this ceiling they reached.
        CeilingCache.Write(dir, s.FitPeople, result);

        var table = new Table().Border(TableBorder.Rounded)
            .Title($"ceiling of {Cli.Esc(dir)}: fitted on {result.TrainPeople:N0} {(result.FitOn == "drawn" ? "people drawn from its generator" : "of its training people")}, scored on its {result.EvalPeople} eval people ({result.EvalPhotos} photos)");
        table.AddColumn("").AddColumn(new TableColumn("ceiling").RightAligned()).AddColumn("fitted on the latent cues");
        foreach (var (path, _) in runs) table.AddColumn(new TableColumn(Cli.Esc(Path.GetFileName(Path.TrimEndingDirectorySeparator(path)))).RightAligned());
        void Row(string name, double ceiling, string how, Func<EvalScores, double?> pick) =>
            table.AddRow([name, $"{ceiling:F4}", how, .. runs.Select(r => pick(r.Summary.Eval!) is { } v ? $"{v:F4} ({100 * v / ceiling:F0} %)" : "–")]);
        Row("[bold]macro F1[/]", result.MacroF1, "18 classes", e => e.MacroF1);
        Row("mask F1", result.MaskF1, "each photo's drawn placement", e => e.MaskF1);
        Row("gender F1", result.GenderF1, $"{Cli.Esc(result.GenderModel)} (held-out F1 {result.GenderCvF1:F3})", e => e.GenderF1);
        Row("age F1", result.AgeF1, $"{Cli.Esc(result.AgeModel)} (held-out F1 {result.AgeCvF1:F3})", e => e.AgeF1);
        Row("accuracy", result.Accuracy, "", e => e.Accuracy);
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("[grey]The cues are exact and person-level: no model reading them from pixels through masks, poses and light should beat this by more than the fit's own error.[/]");

        if (s.Json)
        {
            var o = JsonSerializer.SerializeToNode(result)!.AsObject();
            o["data"] = dir;
            o["runs"] = new JsonArray(runs.Select(r => (JsonNode)new JsonObject
            {
                ["run"] = r.Path, ["eval_macro_f1"] = r.Summary.Eval!.MacroF1, ["fraction_of_ceiling"] = r.Summary.Eval!.MacroF1 / result.MacroF1,
            }).ToArray());
            Cli.WriteJsonLine(o);
        }
        return 0;
    }
}
