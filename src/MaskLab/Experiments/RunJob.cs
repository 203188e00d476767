using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Evaluation;
using MaskLab.Platform;
using MaskLab.Runs;
using MaskLab.Tracking;
using MaskLab.Training;
using Device = TorchSharp.torch.Device;

namespace MaskLab.Experiments;

/// <summary>What a run left behind: its summary and, where its data has an eval set, the prediction of it.</summary>
public sealed record RunOutcome(RunSummary Summary, EvalSet.Result? Prediction);

/// <summary>How a run ends besides training: the eval set's prediction and the report page.</summary>
/// <param name="Predict">Predict the eval set (a fold leaves it to its k-fold root, which votes all folds).</param>
/// <param name="Tta">Average the flipped view when predicting the eval set.</param>
/// <param name="Report">Write report.html into the run directory.</param>
/// <param name="EvalCaches">Decoded eval photos shared by several runs (a sweep's, the folds of a k-fold run).</param>
/// <param name="PredictProgress">Progress of the eval prediction (batches done, total).</param>
public sealed record RunEnd(bool Predict = true, bool Tta = false, bool Report = true, ImageCaches? EvalCaches = null,
    IProgress<(int Done, int Total)>? PredictProgress = null);

/// <summary>
/// A run's whole life, in one place for every entry point (train, each fold of a k-fold run, each run of a sweep):
/// set up the run directory (config.yaml, split.json, metadata.json), train or resume, stamp the end, predict the
/// eval set where the data has one and score it where answers exist, write the summary and the report.
/// </summary>
public sealed class RunJob(RunConfig config, RunDirectory run, ITrainingObserver? observer = null)
{
    readonly ITrainingObserver observer = observer ?? SilentObserver.Instance;

    public RunDirectory Directory => run;

    /// <summary>
    /// Runs it to the end, loading its photos. A finished run is not trained again: only what is missing of its end
    /// (the eval prediction, the report) is done.
    /// </summary>
    /// <remarks>
    /// The run directory has one writer: this process holds its <see cref="RunLock"/> from the start to the end, and a
    /// second process is refused with the holder's pid and host. Every input (the labelled photos, the eval set's
    /// info.csv and photos, the memory the run needs) is checked before the first step, and the run's own files
    /// (config.yaml, checkpoints/) are written only after that, so bad input leaves no run behind. A failure to write
    /// (a full disk, a read-only folder) is a <see cref="MaskLabInputException"/> naming the run.
    /// </remarks>
    public RunOutcome Run(CancellationToken ct, RunEnd? end = null) => Run(ct, null, end);

    /// <summary>As <see cref="Run(CancellationToken, RunEnd?)"/> on photos already decoded (a sweep's or a k-fold run's shared load).</summary>
    internal RunOutcome Run(CancellationToken ct, TrainingData? data, RunEnd? end = null)
    {
        end ??= new RunEnd();
        config.Validate();
        OutFolder.Check(run.Path, FolderKind.Run);
        using var writer = RunWriter.Open(run.Path);
        return RunWriter.Guard("run", run.Path, () => RunLocked(ct, data, end));
    }

    RunOutcome RunLocked(CancellationToken ct, TrainingData? data, RunEnd end)
    {
        var state = RunStates.Of(run, config.Epochs);
        var device = DeviceResolution.Resolve(config.Device);
        if (state == RunState.Finished && run.ReadSummary() is { } done)
        {
            // Killed after training: stamp the end, predict and report only where that had not happened yet.
            if (RunMetadata.Read(run)?["end_time"] is null) RunMetadata.WriteEnd(run);
            var finished = done.Eval is null && end.Predict ? PredictEvalSet(run, done, end, ct, device.Device) : new RunOutcome(done, null);
            if (end.Report && !File.Exists(run.ReportFile)) WriteReport(run);
            return finished;
        }

        // Never more threads than the Slurm task was given, whatever the config asks for.
        var threads = CpuBudget.Threads(config.Threads, CpuBudget.Limit);
        if (threads > 0) TorchSharp.torch.set_num_threads(threads);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (data is null)
            data = TrainingData.LoadChecked(config, observer, ct);
        else
            MemoryEstimate.For(config, data.Set.Samples.Count + (data.EvalImages?.Count ?? 0), data.TrainIndices.Length).ThrowIfTooLarge(config);
        // The eval photos were decoded (and so checked) with the rest: the prediction reads them from the same cache.
        end = end with { EvalCaches = data.Caches };
        double loadSeconds = clock.Elapsed.TotalSeconds;
        bool resume = File.Exists(run.LastCheckpoint);
        // Read before anything of the run is written: a damaged last.ckpt is refused without touching metadata.json,
        // and starting weights that cannot be read leave no run folder.
        if (resume) Checkpoint.ReadState(run.LastCheckpoint);
        else StartingWeights.Check(config, data.Set, observer);
        run.Create();
        if (!resume || !run.HasConfig) run.WriteConfig(config);
        data.WriteSplit(run);
        data.WriteLabelFixes(run);
        // Each run's peak_memory_mb is its own, not that of a larger model trained earlier in the same process.
        PeakMemory.Reset();
        observer.Stage($"device: {device.Info.Describe()}");
        var precision = PrecisionChoice.Resolve(config.Precision, device.IsCuda, CpuFeatures.OfThisMachine);
        observer.Stage(precision.Describe());
        var layout = LayoutChoice.Resolve(config.ChannelsLast, precision.Precision, device.IsCuda, LayoutChoice.ProbeWrong);
        observer.Stage(layout.Describe());
        var sections = data.Provenance();
        sections["precision"] = new System.Text.Json.Nodes.JsonObject { ["setting"] = ConfigValues.EnumText(config.Precision), ["resolved"] = precision.Name, ["reason"] = precision.Reason };
        sections["channels_last"] = new System.Text.Json.Nodes.JsonObject { ["setting"] = ConfigValues.EnumText(config.ChannelsLast), ["resolved"] = layout.ChannelsLast, ["reason"] = layout.Reason };
        int trainPhotos = data.LoaderTrainIndices.Length;
        var epochsReason = config.Epochs is null ? ScheduleSpec.AutoReason(trainPhotos) : "asked for";
        if (config.Epochs is null) observer.Stage($"epochs {config.EpochsFor(trainPhotos)} ({epochsReason})");
        sections["epochs"] = new System.Text.Json.Nodes.JsonObject
        {
            ["setting"] = config.Epochs?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "auto",
            ["resolved"] = config.EpochsFor(trainPhotos), ["reason"] = epochsReason,
        };
        RunMetadata.WriteStart(run, config, data.Set.Samples.Select(s => s.Path), device: device.Info.ToJson(), sections: sections);
        clock.Restart();
        var result = new Trainer(config, run, observer, device.Device, precision, layout).Train(data, ct, resume);
        double trainSeconds = clock.Elapsed.TotalSeconds;
        RunMetadata.WriteEnd(run);
        var summary = new RunSummary(result);
        clock.Restart();
        var outcome = end.Predict ? PredictEvalSet(run, summary, end, ct, device.Device) : new RunOutcome(summary, null);
        // Where this process's time went: reading and decoding the photos, training with validation, predicting eval/.
        RunMetadata.WritePhases(run, new() { ["load_data"] = loadSeconds, ["train_and_validate"] = trainSeconds, ["predict_eval"] = clock.Elapsed.TotalSeconds });
        if (end.Report) WriteReport(run);
        return outcome;
    }

    /// <summary>
    /// Where the run's data has an eval/ folder: predict it with the run (every fold of a k-fold root, soft-voted),
    /// write submission.csv, and put the eval scores (where answers.csv exists) into summary.json.
    /// </summary>
    public static RunOutcome PredictEvalSet(RunDirectory run, RunSummary summary, RunEnd end, CancellationToken ct, Device? device = null)
    {
        if (summary.Training.Data is not { } dataDir || !System.IO.Directory.Exists(dataDir)
            || DataLocator.Locate(dataDir).EvalDir is not { } evalDir)
            return new RunOutcome(summary, null);
        EvalSet.Result result;
        CheckpointChoice checkpoint;
        using (var trained = TrainedEnsemble.Load([run.Path], device: device))
        {
            // Each run (each fold of a k-fold root) loads the weights its own eval_checkpoint names.
            checkpoint = trained.Runs[0].Checkpoint;
            result = EvalSet.Predict(trained.Runs, evalDir, run.SubmissionFile, end.Tta, progress: end.PredictProgress, ct: ct, caches: end.EvalCaches);
        }
        var score = result.Score;
        summary = summary with
        {
            Eval = new EvalScores
            {
                MacroF1 = score?.MacroF1, Accuracy = score?.Accuracy, MaskF1 = score?.MaskF1,
                GenderF1 = score?.GenderF1, AgeF1 = score?.AgeF1, Submission = run.SubmissionFile,
                Checkpoint = ConfigValues.EnumText(checkpoint),
                FaceCropFallbacks = result.FaceCrop?.Fallbacks,
            },
        };
        run.WriteSummary(summary);
        return new RunOutcome(summary, result);
    }


    /// <summary>report.html in the run directory: the run's own page, or for a k-fold root the comparison of its folds.</summary>
    public static void WriteReport(RunDirectory run) =>
        HtmlReport.Write(run.ReportFile, RunSet.Expand(RunDirectory.ExpandFolds([run.Path])));
}
