using System.ComponentModel;
using System.Globalization;
using MaskLab.Data.Loading;
using MaskLab.Synthetic;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

public sealed class SynthSettings : CommandSettings
{
    [CommandOption("--out <DIR>")]
    [Description("Folder to create; it receives train/, eval/ and train_truth.csv")]
    public string? Out { get; init; }

    [CommandOption("--people <N>")]
    [Description("Train people, 7 photos each (default 2700, as the real set)")]
    public int People { get; init; } = 2700;

    [CommandOption("--eval-people <N>")]
    [Description("Eval people, 7 photos each (default 1800)")]
    public int EvalPeople { get; init; } = 1800;

    [CommandOption("--size <WxH>")]
    [Description("Photo size, width x height (default 384x512)")]
    public string Size { get; init; } = "384x512";

    [CommandOption("--seed <S>")]
    [Description("Random seed; the same seed gives byte-identical files (default 42)")]
    public int Seed { get; init; } = 42;

    [CommandOption("--label-noise <FRACTION>")]
    [Description("Share of train photos with a wrong label (default 0.011)")]
    public double LabelNoise { get; init; } = 0.011;

    [CommandOption("--label-noise-kind <competition|uniform>")]
    [Description("competition (default): a person's gender or age band wrong, or their incorrect-mask and no-mask photos swapped, as in the competition; uniform: the literature's kind, any photo showing any other class (a stranger's photo in the person's folder)")]
    [TypeConverter(typeof(LabelNoiseKindOption)), DefaultValue("competition")]
    public MaskLab.Synthetic.LabelNoiseKind LabelNoiseKind { get; init; } = MaskLab.Synthetic.LabelNoiseKind.Competition;

    [CommandOption("--quality <Q>")]
    [Description("JPEG quality 1..100 (default 90)")]
    public int Quality { get; init; } = 90;

    [CommandOption("--no-junk")]
    [Description("Leave out the macOS ._* files that real copies carry")]
    public bool NoJunk { get; init; }

    [CommandOption("--preview <PNG>")]
    [Description("Also write a contact sheet of sample portraits (gender x age, by mask state) to this PNG")]
    public string? Preview { get; init; }
}

/// <summary>Writes the look-alike competition data set.</summary>
public sealed class SynthCommand : Command<SynthSettings>
{
    public override int Execute(CommandContext context, SynthSettings s, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(s.Out)) return Cli.Fail("synth needs --out DIR");
        if (s.People < 0) return Cli.Fail($"--people {s.People} must not be negative");
        if (s.EvalPeople < 0) return Cli.Fail($"--eval-people {s.EvalPeople} must not be negative");
        var size = ImageSize.Parse(s.Size);
        var options = new SynthOptions(s.People, s.EvalPeople, size.Width, size.Height, s.Seed, s.LabelNoise, s.Quality, !s.NoJunk, s.LabelNoiseKind);
        options.Validate();

        if (s.Preview is { } preview)
            SyntheticGenerator.RenderPreview(preview, s.Seed);

        var total = (s.People + s.EvalPeople) * 7;
        SynthReport? report = null;
        var err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        // The progress bar is drawn only on a terminal: redirected, its frames would be lines around an error's one line.
        if (SyntheticGenerator.IsComplete(s.Out, options) || !err.Profile.Capabilities.Interactive)
        {
            report = SyntheticGenerator.Generate(s.Out, options, null, cancellationToken);
        }
        else
        {
            err.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                    new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("drawing photos", maxValue: Math.Max(1, total));
                    report = SyntheticGenerator.Generate(s.Out, options,
                        new Reporter(n => task.Value = Math.Max(task.Value, n)), cancellationToken);
                    task.Value = task.MaxValue;
                });
        }

        var r = report!;
        var inv = CultureInfo.InvariantCulture;
        var preview2 = s.Preview is null ? "" : $" Preview sheet: {s.Preview}.";
        Console.Out.WriteLine(r.Reused
            ? string.Create(inv, $"Reused the existing synthetic set in {r.OutDir}: {r.People} train and {r.EvalPeople} eval people, {r.Photos} photos ({r.NoisyPhotos} train photos with planted wrong labels, see {SyntheticGenerator.TruthFile}).{preview2}")
            : string.Create(inv, $"Wrote {r.People} train and {r.EvalPeople} eval people, {r.Photos} photos of {size} in {r.Elapsed.TotalSeconds:F1} s ({r.PhotosPerSecond:F0} photos/s) to {r.OutDir}: train/train.csv and train/images/, eval/info.csv, eval/images/ and the eval truth eval/answers.csv; {r.NoisyPhotos} train photos carry planted wrong labels, listed in {SyntheticGenerator.TruthFile}.{preview2}"));
        return 0;
    }

    /// <summary>Runs the callback on the reporting thread; <see cref="Progress{T}"/> would post it elsewhere.</summary>
    sealed class Reporter(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
