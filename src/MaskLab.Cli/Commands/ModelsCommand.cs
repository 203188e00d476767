using System.ComponentModel;
using System.Globalization;
using MaskLab.Data.Loading;
using MaskLab.Models;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

/// <summary><c>masklab models [--classes N] [--size WxH] [--json]</c>: the model zoo with sizes and forward cost.</summary>
public sealed class ModelsCommand : Command<ModelsCommand.Settings>
{
    /// <summary>--json maps each model name to its parameter count (null where the size does not suit the model).</summary>
    public sealed class Settings : JsonSettings
    {
        [CommandOption("--classes <N>")]
        [Description("Classes of the head (default 18, the task; 1000 gives the ImageNet reference counts)")]
        [DefaultValue(18)]
        public int Classes { get; set; } = 18;

        [CommandOption("--size <WxH>")]
        [Description("Input width x height for the cost column and for the models whose size depends on it (Mixer's token MLP); default 224x224. ViT and Mixer need sides that are multiples of 16")]
        [DefaultValue("224x224")]
        public string Size { get; set; } = "224x224";

        public override ValidationResult Validate() =>
            Classes < 1 ? ValidationResult.Error($"--classes must be at least 1, got {Classes}") : ValidationResult.Success();
    }

    /// <summary>
    /// A model's parameters and forward cost at <paramref name="spec"/>'s size, or why it cannot take that size (too small
    /// for its pooling, not a multiple of its patch): libtorch says so with its C++ stack after the first line, which is
    /// all that is kept.
    /// </summary>
    public static (long? Parameters, long Macs, string? Reason) Measure(string name, ModelSpec spec)
    {
        try
        {
            using var model = ModelRegistry.Create(name, spec);
            return (ModelStats.Parameters(model), ModelStats.ForwardMacs(model, spec.Width, spec.Height), null);
        }
        catch (Exception e) when (e is MaskLabInputException or System.Runtime.InteropServices.ExternalException or ArgumentException or InvalidOperationException)
        {
            return (null, 0, e is MaskLabInputException ? e.Message : $"model {name} cannot take {spec.Width}x{spec.Height}: {Cli.FirstLine(e.Message)}");
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var size = ImageSize.Parse(settings.Size);
        var spec = new ModelSpec(settings.Classes, size.Width, size.Height);
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("model").AddColumn("family")
            .AddColumn(new TableColumn("parameters").RightAligned())
            .AddColumn(new TableColumn($"GMACs @ {size}").RightAligned())
            .AddColumn("weights=FILE").AddColumn("embedded");
        var counts = new Dictionary<string, long?>();
        var unsuited = new List<string>();
        foreach (var name in ModelRegistry.Names)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var entry = ModelRegistry.Get(name);
            var family = entry.Family;
            var embedded = entry.Embedded is { } weights ? Cli.Esc(weights.Label) : "[grey]-[/]";
            var (parameters, macs, reason) = Measure(name, spec);
            counts[name] = parameters;
            if (reason is null)
            {
                table.AddRow(name, family, parameters!.Value.ToString("N0", CultureInfo.InvariantCulture),
                    (macs / 1e9).ToString("F3", CultureInfo.InvariantCulture), Cli.Esc(entry.Checkpoints), embedded);
            }
            else
            {
                unsuited.Add(reason);
                table.AddRow(name, family, "-", "[grey]n/a[/]", Cli.Esc(entry.Checkpoints), embedded);
            }
        }
        if (counts.Values.All(c => c is null))
            return Cli.Fail($"no model can take --size {size}: {unsuited.FirstOrDefault()}");
        AnsiConsole.Write(table);
        foreach (var reason in unsuited) AnsiConsole.MarkupLine($"[grey]n/a: {Cli.Esc(reason)}[/]");
        AnsiConsole.MarkupLine(
            $"[grey]{settings.Classes} classes, {size} input. Cost is multiply-accumulates of one image's forward pass " +
            "(Conv2d, Linear and attention products; 1 MAC = 2 FLOPs), as most model tables count it. " +
            "'weights=FILE': whose PyTorch state_dicts (.pth / .safetensors) load without renames; every model " +
            "loads its own saved ones. 'embedded': weights that ship with MaskLab and need no file.[/]");
        if (settings.Json) Cli.WriteJsonLine(counts);
        return 0;
    }
}
