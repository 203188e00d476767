using System.ComponentModel;
using MaskLab.Experiments;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli;

/// <summary>Where a sweep's runs or a k-fold run's folds train: here, one after another, or as Slurm array tasks.</summary>
public abstract class ExecutorSettings : CommandSettings
{
    [CommandOption("--executor <local|slurm>"), Description("local: train the runs here, one after another (default); slurm: submit a job array, one task per run, and a gathering job, then return")]
    [TypeConverter(typeof(ExecutorOption)), DefaultValue("local")]
    public ExecutorKind Executor { get; init; } = ExecutorKind.Local;

    [CommandOption("--partition <P>"), Description("Slurm: the partition the tasks run in")]
    public string? Partition { get; init; }

    [CommandOption("--gpus-per-run <N>"), Description("Slurm: GPUs per task (--gres=gpu:N); the runs use device: auto")]
    public int GpusPerRun { get; init; }

    [CommandOption("--cpus-per-run <N>"), Description("Slurm: CPUs per task (default 1); each task's libtorch, decode and .NET threads keep to them")]
    public int CpusPerRun { get; init; } = 1;

    [CommandOption("--mem <M>"), Description("Slurm: memory per task, e.g. 4G")]
    public string? Mem { get; init; }

    [CommandOption("--time <T>"), Description("Slurm: time limit per task, e.g. 2:00:00")]
    public string? Time { get; init; }

    [CommandOption("--max-parallel <K>"), Description("Slurm: at most K tasks at once (the array's %K throttle)")]
    public int? MaxParallel { get; init; }

    [CommandOption("--sbatch-arg <ARG>"), Description("Slurm: one more sbatch option for every job, repeatable (e.g. --account=lab)")]
    public string[] SbatchArgs { get; init; } = [];

    public bool OnSlurm => Executor == ExecutorKind.Slurm;

    /// <summary>The Slurm options given; an option that only Slurm reads is refused with the local executor.</summary>
    public SlurmOptions SlurmOptions()
    {
        var options = new SlurmOptions
        {
            Partition = Partition, GpusPerRun = GpusPerRun, CpusPerRun = CpusPerRun, Mem = Mem, Time = Time,
            MaxParallel = MaxParallel, SbatchArgs = SbatchArgs,
        };
        return options.Validate();
    }

    /// <summary>The first Slurm-only option given, for the one-line refusal under --executor local.</summary>
    public string? SlurmOnlyOptionGiven() =>
        Partition is not null ? "--partition" : GpusPerRun != 0 ? "--gpus-per-run" : CpusPerRun != 1 ? "--cpus-per-run"
        : Mem is not null ? "--mem" : Time is not null ? "--time" : MaxParallel is not null ? "--max-parallel"
        : SbatchArgs.Length > 0 ? "--sbatch-arg" : null;
}

/// <summary>The masklab command a Slurm task runs, and what a submission and a status look like in the terminal.</summary>
public static class SlurmView
{
    /// <summary>
    /// This very build of masklab, so that a task runs what submitted it: the apphost when run through it, else
    /// the dotnet host with this CLI's dll (the ./masklab launcher runs `dotnet MaskLab.Cli.dll`).
    /// </summary>
    public static IReadOnlyList<string> Self()
    {
        var dll = typeof(Cli).Assembly.Location;
        var host = Environment.ProcessPath;
        if (host is not null && Path.GetFileNameWithoutExtension(host) == Path.GetFileNameWithoutExtension(dll)) return [host];
        if (host is not null && Path.GetFileNameWithoutExtension(host) == "dotnet") return [host, dll];
        return [Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", dll];
    }

    public static void ShowSubmission(SlurmBatch batch, SlurmSubmission s, string statusCommand)
    {
        var counts = Counts(s.Before);
        if (s.ArrayJob is { } array)
        {
            AnsiConsole.MarkupLine($"submitted array job [bold]{array}[/] ({s.Submitted.Count} task(s): {Cli.Esc(SlurmScript.ArraySpec(s.Submitted, null))}) from {Cli.Esc(batch.ScriptFile)}");
            foreach (var r in s.Before.Runs.Where(r => !r.NeedsTask))
                AnsiConsole.MarkupLine($"  [grey]{Cli.Esc(r.Unit.Name)}: {r.PhaseText}{(r.Detail.Length > 0 ? ", " + Cli.Esc(r.Detail) : "")}: not submitted again[/]");
        }
        else
        {
            AnsiConsole.MarkupLine($"no run needs a task ({Cli.Esc(counts)})");
        }
        if (s.GatherJob is { } gather)
            AnsiConsole.MarkupLine($"submitted gathering job [bold]{gather}[/] (after the array, afterany) from {Cli.Esc(batch.GatherScriptFile)}");
        AnsiConsole.MarkupLine($"logs: {Cli.Esc(batch.SlurmDir)}; follow with: {Cli.Esc(statusCommand)}");
        // The job ids on one line of their own, for scripts: "jobs: ARRAY GATHER" (- where none was submitted).
        Console.Out.WriteLine($"jobs: {s.ArrayJob?.ToString() ?? "-"} {s.GatherJob?.ToString() ?? "-"}");
    }

    static string Counts(SlurmBatchStatus status) => string.Join(", ", status.Runs.GroupBy(r => r.PhaseText).Select(g => $"{g.Count()} {g.Key}"));

    public static void ShowStatus(SlurmBatch batch, SlurmBatchStatus status)
    {
        AnsiConsole.MarkupLine($"[bold]{Cli.Esc(batch.Folder)}[/]: {status.Runs.Count} runs: {Cli.Esc(Counts(status))}");
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("run").AddColumn("state").AddColumn("detail");
        foreach (var r in status.Runs)
        {
            var detail = r.Phase == SlurmRunPhase.Done && r.Unit.Dir.ReadSummary() is { } summary
                ? $"val macro F1 {summary.Training.BestValMacroF1:F4}" + (summary.Eval?.MacroF1 is { } e ? $", eval {e:F4}" : "")
                : r.Detail;
            var color = r.Phase switch { SlurmRunPhase.Done => "green", SlurmRunPhase.Failed => "red", SlurmRunPhase.Running => "yellow", _ => "grey" };
            table.AddRow(Cli.Esc(r.Unit.Name), $"[{color}]{r.PhaseText}[/]", Cli.Esc(detail));
        }
        AnsiConsole.Write(table);
        foreach (var g in status.GatherJobs.TakeLast(1))
            AnsiConsole.MarkupLine($"gathering job {g.Job}: {Cli.Esc(g.Task is { } t ? t.State + (t.Reason is null ? "" : $" ({t.Reason})") : "no longer listed by Slurm")}");
        if (status.Problem is not null) AnsiConsole.MarkupLine($"[yellow]from the run directories only:[/] {Cli.Esc(status.Problem)}");
    }
}
