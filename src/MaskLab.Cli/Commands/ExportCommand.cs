using System.ComponentModel;
using System.Globalization;
using MaskLab.Data;
using MaskLab.Export;
using MaskLab.Models;
using MaskLab.Runs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

/// <summary>
/// <c>masklab export --model NAME --checkpoint FILE --size WxH --out FILE</c>: writes the model as ONNX and checks
/// it in ONNX Runtime against TorchSharp on random images. A draft that takes the model by name; reading all of
/// it from a run directory (<c>--run RUNDIR</c>) comes with the typed run config.
/// </summary>
public sealed class ExportCommand : Command<ExportCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--model <NAME>")]
        [Description("Registered model name, e.g. resnet18 (see 'masklab models')")]
        public string? Model { get; set; }

        [CommandOption("--checkpoint <FILE>")]
        [Description("MaskLab checkpoint with the trained weights, e.g. RUNDIR/checkpoints/best.ckpt; without it the weights are untrained")]
        public string? Checkpoint { get; set; }

        [CommandOption("--size <WxH>")]
        [Description("Input width x height the model was trained at, e.g. 128x96")]
        public string? Size { get; set; }

        [CommandOption("--classes <N>")]
        [Description("Classes of the probabilities output (default 18, the task)")]
        [DefaultValue(18)]
        public int Classes { get; set; } = 18;

        [CommandOption("--head <HEAD>")]
        [Description("single (one softmax) or multi (mask / gender / age softmaxes multiplied into 18 classes)")]
        [DefaultValue("single")]
        public string Head { get; set; } = "single";

        [CommandOption("--normalization <NAME>")]
        [Description("Mean / std the model was trained with: task (default) or imagenet")]
        [DefaultValue("task")]
        public string Normalization { get; set; } = "task";

        [CommandOption("--normalize-outside")]
        [Description("Leave the mean / std out of the graph: the caller feeds normalised input (default: the graph takes RGB in 0..1)")]
        public bool NormalizeOutside { get; set; }

        [CommandOption("--out <FILE>")]
        [Description("ONNX file to write")]
        public string? Out { get; set; }

        [CommandOption("--check <N>")]
        [Description("Random images to compare ONNX Runtime with TorchSharp on (default 4; 0 skips the check)")]
        [DefaultValue(4)]
        public int Check { get; set; } = 4;

        [CommandOption("--json")]
        [Description("Also print one JSON object on the last line of stdout")]
        public bool Json { get; set; }

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Model) ? ValidationResult.Error("export needs --model NAME")
            : string.IsNullOrWhiteSpace(Size) ? ValidationResult.Error("export needs --size WxH, the size the model was trained at")
            : string.IsNullOrWhiteSpace(Out) ? ValidationResult.Error("export needs --out FILE")
            : Head is not ("single" or "multi") ? ValidationResult.Error($"--head must be single or multi, got '{Head}'")
            : Normalization is not ("task" or "imagenet") ? ValidationResult.Error($"--normalization must be task or imagenet, got '{Normalization}'")
            : Check < 0 ? ValidationResult.Error($"--check must be 0 or more, got {Check}")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var size = ImageSize.Parse(settings.Size!);
        var spec = new ExportSpec(size.Width, size.Height, settings.Classes)
        {
            Head = settings.Head == "multi" ? ExportHead.Multi : ExportHead.Single,
            Normalization = settings.Normalization == "imagenet" ? ImageNormalization.ImageNet : ImageNormalization.Task,
            NormalizationInGraph = !settings.NormalizeOutside,
        };
        using var model = ModelRegistry.Create(settings.Model!, new ModelSpec(spec.Logits, size.Width, size.Height));
        if (settings.Checkpoint is not null) Checkpoint.Load(settings.Checkpoint, model);
        else AnsiConsole.MarkupLine("[yellow]no --checkpoint: exporting untrained weights[/]");

        var result = OnnxExport.Write(model, settings.Model!, spec, settings.Out!);
        AnsiConsole.MarkupLine($"wrote {Cli.Esc(result.Path)}: {result.Bytes / 1048576.0:F1} MiB, {result.Nodes} nodes, opset {ExportSpec.Opset}");

        OnnxCheck? check = null;
        if (settings.Check > 0)
        {
            using var images = OnnxExport.RandomImages(spec, settings.Check, seed: 0);
            check = OnnxExport.Verify(result.Path, model, spec, images);
            AnsiConsole.MarkupLine(
                $"ONNX Runtime vs TorchSharp on {check.Images} random images: max |probability difference| " +
                $"{check.MaxProbabilityDiff.ToString("G3", CultureInfo.InvariantCulture)}, max |logit difference| " +
                $"{check.MaxLogitDiff.ToString("G3", CultureInfo.InvariantCulture)}");
        }
        if (settings.Json)
            Cli.WriteJsonLine(new
            {
                path = result.Path, bytes = result.Bytes, nodes = result.Nodes, opset = ExportSpec.Opset,
                max_probability_diff = check?.MaxProbabilityDiff, max_logit_diff = check?.MaxLogitDiff,
            });
        if (check is not null && !(check.MaxProbabilityDiff <= OnnxExport.Tolerance))
            return Cli.Fail($"ONNX Runtime's probabilities differ from TorchSharp's by {check.MaxProbabilityDiff:G3}, over {OnnxExport.Tolerance:G1}", 1);
        return 0;
    }
}
