using System.ComponentModel;
using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Synthetic;
using MaskLab.Benchmarks;
using MaskLab.Platform;
using MaskLab.Runs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MaskLab.Cli.Commands;

public sealed class BenchCommand : Command<BenchCommand.Settings>
{
    public sealed class Settings : DeviceSettings
    {
        [CommandOption("-m|--model <NAME>"), Description("Model to time"), DefaultValue("resnet18")]
        public string Model { get; init; } = "resnet18";

        [CommandOption("--size <WxH>"), Description("Input size"), DefaultValue("96x128")]
        public string Size { get; init; } = "96x128";

        [CommandOption("-b|--batch <N>"), Description("Batch size"), DefaultValue(32)]
        public int Batch { get; init; } = 32;

        [CommandOption("--steps <N>"), Description("Timed steps (after warm-up)"), DefaultValue(20)]
        public int Steps { get; init; } = 20;

        [CommandOption("--warmup <N>"), Description("Untimed warm-up steps"), DefaultValue(3)]
        public int Warmup { get; init; } = 3;

        [CommandOption("--precision <P>"), Description("fp32, bf16, fp16 or auto (mixed precision as `precision` trains: low-precision compute, fp32 master weights, fp16 with loss scaling; inference runs the low-precision copy; auto: bf16 where the CPU has native bf16, else fp32)"), DefaultValue("fp32")]
        [TypeConverter(typeof(PrecisionOption))]
        public Precision Precision { get; init; } = Precision.Fp32;

        [CommandOption("--threads <N>"), Description("libtorch threads (default: all cores)")]
        public int? Threads { get; init; }

        [CommandOption("--pipeline"), Description("Feed training from the real loader (decoded, cached, augmented synthetic photos) instead of random tensors")]
        public bool Pipeline { get; init; }

        [CommandOption("--profile"), Description("Also say where a training step's time goes (phase by phase, .NET GC pauses) and what fraction of the machine's measured matrix-product ceiling training reaches")]
        public bool Profile { get; init; }

        [CommandOption("--channels-last"), Description("Convolution weights and batches in the channels-last (NHWC) layout, as `channels_last: true` trains")]
        public bool ChannelsLast { get; init; }

        public override ValidationResult Validate() =>
            Batch <= 0 ? ValidationResult.Error($"--batch {Batch} must be positive")
            : Steps <= 0 ? ValidationResult.Error($"--steps {Steps} must be positive")
            : Warmup < 0 ? ValidationResult.Error($"--warmup {Warmup} must not be negative")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellation)
    {
        var size = ImageSize.Parse(s.Size);
        if (!Models.ModelRegistry.Contains(s.Model)) throw new MaskLabInputException($"unknown model '{s.Model}'; known: {string.Join(", ", Models.ModelRegistry.Names)}");
        if (s.Threads is > 0) TorchSharp.torch.set_num_threads(s.Threads.Value);
        // A size the model cannot take is refused here with one line, as train refuses it, not by libtorch mid-timing.
        MaskLab.Training.MemoryEstimate.ActivationsPerImage(s.Model, MaskLab.Data.Layout.TaskClasses.Count, size);

        BatchLoader? loader = null;
        if (s.Pipeline)
        {
            // Enough photos that the timed steps run over cached images, as from the second epoch on.
            int people = Math.Max(20, (s.Steps + s.Warmup + 2) * s.Batch / 7 + 1);
            var options = new SynthOptions(People: people, EvalPeople: 1, Seed: 7);
            var dir = Path.Combine(MaskLabHome.Root, $"bench-synthetic-p{people}");
            var set = TrainingView.Run(() =>
            {
                SyntheticGenerator.Generate(dir, options, new SyncProgress<int>(d => TrainingView.Observer.Progress("synthesising photos", d, people * 7)), cancellation);
                var labeled = DataLocator.ReadLabeled(dir);
                return labeled;
            });
            var cache = new ImageCache(size.Width, size.Height);
            TrainingView.Run(() =>
            {
                cache.PreloadAll(set.Samples.Select(x => x.Path).ToArray(),
                    new SyncProgress<int>(d => TrainingView.Observer.Progress("decoding photos", d, set.Samples.Count)), cancellation);
                return cache.Count;
            });
            loader = new BatchLoader(set.Samples, Enumerable.Range(0, set.Samples.Count).ToArray(), x => x.Label, cache,
                new LoaderOptions(BatchSize: s.Batch, Shuffle: true, Augment: AugmentOptions.Default, Seed: 1, DropLast: true,
                    Width: size.Width, Height: size.Height));
        }

        int total = 2 * (s.Steps + s.Warmup);
        var device = DeviceResolution.Resolve(s.Device);
        AnsiConsole.MarkupLine($"[grey]device: {Cli.Esc(device.Info.Describe())}[/]");
        var resolved = PrecisionChoice.Resolve(s.Precision, device.IsCuda, CpuFeatures.OfThisMachine);
        if (s.Precision == Precision.Auto) AnsiConsole.MarkupLine($"[grey]{Cli.Esc(resolved.Describe())}[/]");
        var precision = resolved.Precision;
        var result = TrainingView.Run(() => Throughput.Measure(s.Model, size, s.Batch, s.Steps, s.Warmup, loader,
            new SyncProgress<int>(d => TrainingView.Observer.Progress($"timing {s.Model}", d, total)), precision, s.Profile, device.Device, s.ChannelsLast));

        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]{Cli.Esc(s.Model)}[/] {size} batch {s.Batch} {result.Precision}, {result.Threads} threads, {result.Source}");
        table.AddColumn("").AddColumn(new TableColumn("images/s (median)").RightAligned()).AddColumn(new TableColumn("step ms (median)").RightAligned());
        table.AddRow("train", $"{result.TrainImagesPerSecond:F1}", $"{1000 * Throughput.Median(result.TrainStepSeconds):F1}");
        table.AddRow("inference", $"{result.InferImagesPerSecond:F1}", $"{1000 * Throughput.Median(result.InferStepSeconds):F1}");
        double? peakMemory = PeakMemory.Megabytes();
        if (peakMemory is { } peak) table.Caption($"peak resident memory of the process: {peak:F0} MiB");
        AnsiConsole.Write(table);

        double? trainGflops = null, ceiling = null;
        if (s.Profile)
        {
            double stepMs = 1000 * Throughput.Median(result.TrainStepSeconds);
            var phases = new Table().Border(TableBorder.Rounded).Title("[bold]training step, phase by phase (median ms)[/]");
            phases.AddColumn("phase").AddColumn(new TableColumn("ms").RightAligned()).AddColumn(new TableColumn("share of step").RightAligned());
            foreach (var (phase, seconds) in result.Phases)
                phases.AddRow(phase, $"{1000 * seconds:F1}", $"{100 * 1000 * seconds / stepMs:F1} %");
            phases.AddRow("[grey](of which .NET GC pauses)[/]", $"{1000 * result.GcPauseSecondsPerStep:F2}", $"{100 * 1000 * result.GcPauseSecondsPerStep / stepMs:F1} %");
            phases.AddRow("[grey]whole step[/]", $"[grey]{stepMs:F1}[/]", "[grey]100 %[/]");
            AnsiConsole.Write(phases);

            long macs = result.ForwardMacs;
            trainGflops = result.TrainImagesPerSecond * Throughput.TrainFlopsPerImage(macs) / 1e9;
            ceiling = Throughput.MatmulGflops(precision == Precision.Bf16 ? TorchSharp.torch.ScalarType.BFloat16 : TorchSharp.torch.ScalarType.Float32);
            AnsiConsole.MarkupLine($"training does {trainGflops:F0} GFLOP/s (3 x 2 x {macs / 1e9:F3} G multiply-accumulates per image) = "
                + $"[bold]{100 * trainGflops / ceiling:F0} %[/] of the {ceiling:F0} GFLOP/s a 2048³ {result.Precision} matrix product reaches here; "
                + $"{result.GcCollections} GC collections in the timed steps");
        }
        if (s.Json)
            Cli.WriteJsonLine(new
            {
                model = result.Model, image_size = result.ImageSize, batch = result.Batch, precision = result.Precision,
                device = device.Info.Device, device_name = device.Info.Name, channels_last = s.ChannelsLast,
                threads = result.Threads, source = result.Source,
                train_images_per_second = result.TrainImagesPerSecond, infer_images_per_second = result.InferImagesPerSecond,
                phases_ms = s.Profile ? result.Phases.ToDictionary(p => p.Phase, p => 1000 * p.MedianSeconds) : null,
                gc_pause_ms_per_step = s.Profile ? 1000 * result.GcPauseSecondsPerStep : (double?)null,
                train_gflops = trainGflops, matmul_ceiling_gflops = ceiling,
                peak_memory_mb = peakMemory,
            });
        return 0;
    }
}
