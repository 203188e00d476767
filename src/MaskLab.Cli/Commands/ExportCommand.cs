using System.ComponentModel;
using System.Globalization;
using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Export;
using MaskLab.Models;
using MaskLab.Runs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

/// <summary>
/// <c>masklab export --run RUNDIR --out FILE</c>: writes a trained run as ONNX (its best weights, size, head and
/// input normalisation) and checks ONNX Runtime against MaskLab's own prediction on the eval photos.
/// <c>--model NAME --size WxH [--checkpoint FILE]</c> exports a registry model by name, checked on random images.
/// </summary>
public sealed class ExportCommand : Command<ExportCommand.Settings>
{
    /// <summary>--run: the trained run to export (its config gives model, size, head and normalisation).</summary>
    public sealed class Settings : RunSettings
    {
        [CommandOption("-d|--data <DIR>")]
        [Description("With --run: photos to check ONNX Runtime against MaskLab on (default: the run's eval photos)")]
        public string? Data { get; set; }

        [CommandOption("--photos <N>")]
        [Description("With --run: at most this many photos in the check (default 256; 0 skips it)")]
        [DefaultValue(256)]
        public int Photos { get; set; } = 256;

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
        [TypeConverter(typeof(ExportHeadOption))]
        public ExportHead Head { get; set; } = ExportHead.Single;

        [CommandOption("--normalization <NAME>")]
        [Description("Mean / std the model was trained with: task (default) or imagenet")]
        [DefaultValue("task")]
        [TypeConverter(typeof(NormalizationOption))]
        public NormalizationName Normalization { get; set; } = NormalizationName.Task;

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

        protected override ValidationResult ValidateOptions() =>
            Run is not null && Model is not null ? ValidationResult.Error("export takes --run RUNDIR or --model NAME, not both")
            : Run is null && string.IsNullOrWhiteSpace(Model) ? ValidationResult.Error("export needs --run RUNDIR (or --model NAME --size WxH)")
            : Run is null && string.IsNullOrWhiteSpace(Size) ? ValidationResult.Error("export needs --size WxH, the size the model was trained at")
            : Photos < 0 ? ValidationResult.Error($"--photos must be 0 or more, got {Photos}")
            : string.IsNullOrWhiteSpace(Out) ? ValidationResult.Error("export needs --out FILE")
            : Check < 0 ? ValidationResult.Error($"--check must be 0 or more, got {Check}")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        MaskLab.Experiments.OutputFile.Check("--out", settings.Out!, dataDirs: [settings.Data]);
        return settings.Run is not null ? ExportRun(settings, cancellationToken) : ExportModel(settings);
    }

    static int ExportRun(Settings settings, CancellationToken ct)
    {
        var photos = CheckPhotos(settings);
        var result = TrainingView.Run(() => RunExport.Write(settings.Run!, settings.Out!, photos, settings.Photos,
            new SyncProgress<(int Done, int Total)>(p => TrainingView.Observer.Progress("checking in ONNX Runtime", p.Done, p.Total)), ct));
        var f = result.File;
        AnsiConsole.MarkupLine($"wrote {Cli.Esc(f.Path)}: {f.Bytes / 1048576.0:F1} MiB, {f.Nodes} nodes, opset {ExportSpec.Opset}, input RGB 0..1 at {result.Spec.Width}x{result.Spec.Height}");
        if (result.PhotosChecked > 0)
            AnsiConsole.MarkupLine($"ONNX Runtime vs MaskLab on {result.PhotosChecked} photos: max |probability difference| {result.MaxProbabilityDiff.ToString("G3", CultureInfo.InvariantCulture)}");
        if (settings.Json)
            Cli.WriteJsonLine(new { path = f.Path, bytes = f.Bytes, nodes = f.Nodes, opset = ExportSpec.Opset, photos = result.PhotosChecked,
                max_probability_diff = result.PhotosChecked > 0 ? result.MaxProbabilityDiff : (double?)null });
        if (result.PhotosChecked > 0 && !(result.MaxProbabilityDiff <= OnnxExport.Tolerance))
            return Cli.Fail($"ONNX Runtime's probabilities differ from MaskLab's by {result.MaxProbabilityDiff:G3}, over {OnnxExport.Tolerance:G1}", 1);
        return 0;
    }

    /// <summary>The photos to check on: --data's (eval/ photos, or labelled photos), else the run's own eval set.</summary>
    static IReadOnlyList<Sample> CheckPhotos(Settings settings)
    {
        if (settings.Photos == 0) return [];
        var dir = settings.Data ?? new RunDirectory(settings.Run!).ReadSummary()?.Training.Data;
        if (dir is null || !Directory.Exists(dir)) return [];
        var location = DataLocator.Locate(dir);
        if (location.EvalDir is { } evalDir)
            return CompetitionLayout.ReadEval(evalDir).Select(i => new Sample(i.Path, 0, i.ImageId)).ToArray();
        return DataLocator.ReadLabeled(dir).Samples;
    }

    static int ExportModel(Settings settings)
    {
        var size = ImageSize.Parse(settings.Size!);
        var spec = new ExportSpec(size.Width, size.Height, settings.Classes)
        {
            Head = settings.Head,
            Normalization = settings.Normalization == NormalizationName.ImageNet ? ImageNormalization.ImageNet : ImageNormalization.Task,
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
