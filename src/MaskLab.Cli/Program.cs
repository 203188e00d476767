using MaskLab;
using MaskLab.Cli;
using MaskLab.Cli.Commands;
using MaskLab.Platform;
using Spectre.Console;
using Spectre.Console.Cli;

NativeSetup.Initialize();

var app = new CommandApp();
app.Configure(c =>
{
    c.SetApplicationName("masklab");
    c.PropagateExceptions();
    c.ValidateExamples();
    // One line per verb; each verb lives in Commands/<Verb>Command.cs.
    c.AddCommand<ModelsCommand>("models").WithDescription("List the model zoo: parameters, and forward cost in GMACs (multiply-accumulates, 1 MAC = 2 FLOPs) at an input size")
        .WithExample("models", "--size", "128x96").WithExample("models", "--classes", "1000", "--json");
});

try
{
    return app.Run(args);
}
catch (Exception e) when (e is CommandParseException or CommandRuntimeException or MaskLabInputException)
{
    return Cli.Fail(e.Message);
}
catch (Exception e)
{
    if (Environment.GetEnvironmentVariable("MASKLAB_DEBUG") == "1") AnsiConsole.WriteException(e);
    return Cli.Fail($"internal error: {e.GetType().Name}: {e.Message}", 1);
}
