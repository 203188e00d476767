using System.ComponentModel;
using MaskLab.Dashboard;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

/// <summary><c>masklab serve</c>: the local web dashboard over the runs folder, until Ctrl+C or SIGTERM.</summary>
public sealed class ServeCommand : Command<ServeCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--runs <DIR>"), Description("Folder searched (recursively) for runs, k-fold runs and sweeps (default runs/)")]
        public string Runs { get; init; } = "runs";

        [CommandOption("--data <DIR>"), Description("A data folder whose photos the pages may show (repeatable; default: MASKLAB_HOME, which holds the embedded synthetic set)")]
        public string[] Data { get; init; } = [];

        [CommandOption("--port <N>"), Description("Port to listen on (default 8023; 0 picks a free one)")]
        public int Port { get; init; } = DashboardOptions.DefaultPort;

        [CommandOption("--host <ADDRESS>"), Description("Address to bind (default 127.0.0.1). Any other address needs a token: one is generated and printed unless --token is given")]
        public string Host { get; init; } = "127.0.0.1";

        [CommandOption("--token <TOKEN>"), Description("The secret a browser must present (printed in the address to open); on 127.0.0.1 it is then asked for too")]
        public string? Token { get; init; }

        [CommandOption("--reviews <DIR>"), Description("Where label reviews keep their label_fixes files (default: runs/label-reviews)")]
        public string? Reviews { get; init; }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var data = s.Data.Length > 0 ? s.Data : Directory.Exists(MaskLabHome.Root) ? [MaskLabHome.Root] : [];
        var options = DashboardOptions.Create(s.Runs, data, s.Host, s.Port, s.Token, s.Reviews);
        using var ctrlC = new CtrlC(cancellation);
        var app = DashboardServer.Create(options);
        try { app.StartAsync(ctrlC.Token).GetAwaiter().GetResult(); }
        catch (IOException e)
        {
            // The host must be disposed even though it never started: its console lifetime holds the process open.
            app.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw new MaskLabInputException($"cannot listen on {options.Host}:{options.Port}: {e.Message} (another program may use the port: pick another with --port, or 0 for a free one)");
        }
        var url = app.Urls.FirstOrDefault() ?? $"http://{options.Host}:{options.Port}";
        // Read every run once before the address is given out, so that the first table answers from what is kept.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var entries = DashboardServer.Prepare(app, url);
        static string N(int n, string what) => $"{n} {what}{(n == 1 ? "" : "s")}";
        AnsiConsole.MarkupLine($"found {N(entries.Count(r => r.Kind is EntryKind.Run or EntryKind.Fold), "run")}, {N(entries.Count(r => r.Kind == EntryKind.KFold), "k-fold run")} " +
                               $"and {N(entries.Count(r => r.Kind == EntryKind.Sweep), "sweep")} in {clock.Elapsed.TotalSeconds:0.0} s");
        AnsiConsole.MarkupLine($"serving runs from [bold]{Cli.Esc(options.RunsRoot)}[/]" +
                               (options.DataRoots.Count > 0 ? $", photos from {Cli.Esc(string.Join(", ", options.DataRoots))}" : ""));
        AnsiConsole.MarkupLine($"label reviews are written to {Cli.Esc(options.ReviewsDir)}");
        if (!options.IsLoopback && s.Token is null)
            AnsiConsole.MarkupLine("[yellow]listening beyond this machine: anyone who can reach it needs the token below[/]");
        // The address on a line of its own, as Jupyter prints it, for a terminal to make clickable.
        Console.Out.WriteLine($"open {DashboardServer.BrowserUrl(options, url)}");
        Console.Out.WriteLine("Ctrl+C stops the server");
        Console.Out.Flush();
        // Ctrl+C, or SIGTERM (the host's console lifetime turns it into "stopping").
        WaitHandle.WaitAny([ctrlC.Token.WaitHandle, app.Lifetime.ApplicationStopping.WaitHandle]);
        app.StopAsync().GetAwaiter().GetResult();
        app.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }
}
