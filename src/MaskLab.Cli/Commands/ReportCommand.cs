using System.ComponentModel;
using MaskLab.Tracking;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

/// <summary><c>masklab report RUNDIR... --out FILE.html</c>: one self-contained HTML page about runs.</summary>
public sealed class ReportCommand : Command<ReportCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<RUNDIR>")]
        [Description("Run directories; a folder of runs (a sweep, a k-fold run) stands for all runs below it")]
        public string[] Runs { get; set; } = [];

        [CommandOption("--out <FILE>")]
        [Description("HTML file to write (pictures are embedded, so the file can be mailed or archived alone)")]
        public string? Out { get; set; }

        [CommandOption("--title <TEXT>")]
        [Description("Page title (default: the run's name, or the number of runs compared)")]
        public string? Title { get; set; }

        public override ValidationResult Validate() =>
            Runs.Length == 0 ? ValidationResult.Error("report needs at least one RUNDIR")
            : string.IsNullOrWhiteSpace(Out) ? ValidationResult.Error("report needs --out FILE.html")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        MaskLab.Experiments.OutputFile.Check("--out", settings.Out!);
        var runs = RunSet.Expand(settings.Runs);
        HtmlReport.Write(settings.Out!, runs, settings.Title);
        AnsiConsole.MarkupLine($"wrote [bold]{Cli.Esc(Path.GetFullPath(settings.Out!))}[/] ({runs.Count} run{(runs.Count == 1 ? "" : "s")})");
        return 0;
    }
}
