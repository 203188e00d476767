using MaskLab;
using MaskLab.Cli;
using MaskLab.Cli.Commands;
using MaskLab.Data.Loading;
using MaskLab.Platform;
using MaskLab.Training;
using Spectre.Console;
using Spectre.Console.Cli;

NativeSetup.Initialize();

var app = new CommandApp();
app.Configure(c =>
{
    c.SetApplicationName("masklab");
    c.PropagateExceptions();
    c.UseStrictParsing();
    c.ValidateExamples();
    // Help and Spectre's own messages on the console every verb writes to.
    c.ConfigureConsole(AnsiConsole.Console);
    c.SetHelpProvider(new VerbHelp(c.Settings, new Dictionary<string, string[][]>
    {
        ["train"] = [["train"], ["train", "--config", "configs/baseline.yaml", "--set", "epochs=5"], ["train", "--data", "/data/mask", "--set", "model=resnet34", "--set", "age_cuts=30,58"]],
        ["sweep"] = [["sweep", "--config", "configs/loss-study.yaml", "--out", "runs/loss-study"]],
    }));
    // One line per verb; each verb lives in Commands/<Verb>Command.cs.
    c.AddCommand<SynthCommand>("synth").WithDescription("Write the look-alike synthetic data set in the competition layout");
    // sweep and train are branches: their own form is the default command, the modes are sub-commands, and what Slurm
    // jobs run is hidden. The own form's examples are shown by VerbHelp (see there why not through WithExample).
    c.AddBranch("train", train =>
    {
        train.SetDescription("Train a model (default: the embedded ImageNet ResNet18, fine-tuned on the embedded synthetic set), then predict and score its eval set");
        train.SetDefaultCommand<TrainCommand>();
        train.AddCommand<TrainGatherCommand>("gather").WithDescription("Gather the finished folds of a k-fold run into oof.csv, summary.json and the eval prediction, training nothing (what the Slurm gathering job runs)")
            .WithExample("train", "gather", "--out", "runs/kfold");
        train.AddCommand<TrainFoldCommand>("fold").IsHidden().WithDescription("Train fold K of the k-fold run in --out and nothing else (what each Slurm array task runs)");
    });
    c.AddBranch("sweep", sweep =>
    {
        sweep.SetDescription("Train every setting of a sweep file at every seed; results.csv and a mean ± std table that marks differences within the seed spread");
        sweep.SetDefaultCommand<SweepCommand>();
        sweep.AddCommand<SweepStatusCommand>("status").WithDescription("Each run's state in a sweep folder or k-fold run from its run directories, plus squeue / sacct where they answer: done, running, pending, failed with the failure's first line")
            .WithExample("sweep", "status", "runs/loss-study");
        sweep.AddCommand<SweepGatherCommand>("gather").WithDescription("Write results.csv and summary.md of a sweep folder from its run directories, training nothing (what the Slurm gathering job runs)")
            .WithExample("sweep", "gather", "--out", "runs/loss-study");
        sweep.AddCommand<SweepTaskCommand>("task").IsHidden().WithDescription("Train run I of the sweep in --out and nothing else (what each Slurm array task runs)");
    });
    c.AddCommand<EvalCommand>("eval").WithDescription("Score a trained run on labelled data");
    c.AddCommand<PredictCommand>("predict").WithDescription("Write a submission for an eval set; several --run soft-vote an ensemble");
    c.AddCommand<AuditCommand>("audit").WithDescription("List likely mislabeled photos from a k-fold run's out-of-fold predictions (confidently wrong, by person)")
        .WithExample("audit", "--run", "runs/kfold", "--fixes", "suspects.csv");
    c.AddCommand<CleanCommand>("clean").WithDescription("From noisy labels to a cleaner model: a k-fold audit of the labels, its fixes at the threshold (or a stop to review them), and the final run trained with them")
        .WithExample("clean", "--out", "runs/clean", "--data", "data/noisy");
    c.AddCommand<EnsembleCommand>("ensemble").WithDescription("Pick blend weights for k-fold runs on their out-of-fold probabilities and report the blend's OOF macro F1");
    c.AddCommand<BenchCommand>("bench").WithDescription("Median training and inference images/s of a model");
    c.AddCommand<CeilingCommand>("ceiling").WithDescription("The most any model could reach on a synthetic set: classifiers fitted on the latent cues each person was drawn from, scored on the eval people")
        .WithExample("ceiling", "--data", "data/synth", "--run", "runs/main");
    c.AddCommand<ScoreCommand>("score").WithDescription("Macro F1, accuracy and per-attribute F1 of a submission against the eval truth").WithExample("score", "--pred", "submission.csv", "--truth", "data/eval/answers.csv", "--json");
    c.AddCommand<ModelsCommand>("models").WithDescription("List the model zoo: parameters, and forward cost in GMACs (multiply-accumulates, 1 MAC = 2 FLOPs) at an input size")
        .WithExample("models", "--size", "128x96").WithExample("models", "--classes", "1000", "--json");
    c.AddCommand<ReportCommand>("report").WithDescription("One self-contained HTML page with curves, confusion heat map, per-class F1 and wrong photos of a run, or a comparison of runs / a sweep").WithExample("report", "runs/a", "runs/b", "--out", "report.html");
    c.AddCommand<ExportCommand>("export").WithDescription("Write a model as ONNX (probabilities out, preprocessing in its metadata) and check it in ONNX Runtime")
        .WithExample("export", "--model", "resnet18", "--checkpoint", "runs/a/checkpoints/best.ckpt", "--size", "128x96", "--out", "model.onnx");
    c.AddCommand<DeviceCommand>("device").WithDescription("Which libtorch and device a run would use (auto, cpu, cuda, cuda:N), with a check computation on it")
        .WithExample("device", "--device", "cuda", "--json");
    c.AddCommand<ServeCommand>("serve").WithDescription("Local web dashboard: runs table, live curves, confusion photos, compare, sweeps, label review, try a photo").WithExample("serve", "--runs", "runs", "--port", "8023");
    c.AddCommand<CompareCommand>("compare").WithDescription("Comparison table of runs (or of the runs in a sweep / k-fold folder) in the terminal").WithExample("compare", "runs/sweep");
});

try
{
    // libtorch is chosen before anything touches TorchSharp (a build without the bundled one finds another).
    LibTorchRuntime.Load();
    NativeSetup.FlushDenormalsFromNowOn();
    return app.Run(OwnForm(args));
}
catch (Exception thrown)
{
    var e = Unwrap(thrown);
    switch (e)
    {
        case CommandParseException or CommandRuntimeException:
            return Cli.Fail(Cli.NameTheOption(e.Message, args));
        case BadImagesException bad:
            return Cli.Fail(bad);
        case MaskLabInputException:
            return Cli.Fail(e.Message);
        case TrainingStoppedException:
            // Training diverged or was stopped by its own rule: the input was fine, the run failed.
            return Cli.Fail(e.Message, 1);
        case IOException or UnauthorizedAccessException:
            // A full disk, a read-only or vanished folder: the environment's doing, which the user can fix; .NET names the path.
            return Cli.Fail($"cannot read or write: {e.Message}");
        default:
            if (Environment.GetEnvironmentVariable("MASKLAB_DEBUG") == "1") AnsiConsole.WriteException(e);
            // libtorch's messages carry its C++ stack after the first line: the line is the error.
            return Cli.Fail($"internal error: {e.GetType().Name}: {Cli.FirstLine(e.Message)}", 1);
    }
}

// `masklab sweep --config ...` is the sweep branch's own form, its default command (so for train). Spectre 0.57 reaches it
// only after the line failed to parse as the bare branch, and a mistyped option then comes back as that first failure,
// naming a valid option ("Unknown option 'config'"). Naming the default command (Spectre's name for it) when the verb is
// followed by an option makes the error the form's own; VerbHelp shows its help as the verb's.
static string[] OwnForm(string[] args) =>
    args.Length > 1 && args[0] is "train" or "sweep" && args[1].StartsWith('-') ? [args[0], "__default_command", .. args[1..]] : args;

// The error inside a parallel loop's AggregateException (a bad input among them first), a reflective call's wrapper, or
// Spectre's wrapper of an option value refused while parsing.
static Exception Unwrap(Exception e)
{
    for (int depth = 0; depth < 8; depth++)
    {
        if (e is AggregateException a && a.Flatten().InnerExceptions is { Count: > 0 } inner)
            e = inner.FirstOrDefault(x => x is MaskLabInputException) ?? inner.FirstOrDefault(x => x is IOException or UnauthorizedAccessException) ?? inner[0];
        else if (e is System.Reflection.TargetInvocationException { InnerException: { } t })
            e = t;
        else if (e is CommandRuntimeException { InnerException: MaskLabInputException bad })
            e = bad; // a typed option's value refused while the command line was read (OptionConverter)
        else
            break;
    }
    return e;
}
