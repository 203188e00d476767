using MaskLab.Data.Layout;
using MaskLab.Training;

namespace MaskLab.Tests;

/// <summary>Sweep files, grid expansion, run names and the seed statistics: no training.</summary>
public class SweepSpecTests
{
    static string Write(TempDir dir, string name, string text)
    {
        var file = Path.Combine(dir.Path, name);
        File.WriteAllText(file, text);
        return file;
    }

    [Fact]
    public void GridProductThenRunsTimesSeedsOverABaseFile()
    {
        using var dir = new TempDir();
        Write(dir, "base.yaml", "model: baseline\nimage_size: 24x32\nepochs: 7\nseed: 5\n");
        var file = Write(dir, "sweep.yaml", """
            base: base.yaml
            set: {epochs: 2}
            seeds: [1, 2]
            grid:
              loss: [cross_entropy, focal]
              lr: [0.01, 0.001]
            runs:
              - {loss: f1+cross_entropy, loss_alpha: 0.2}
            """);
        var spec = SweepSpec.Load(file);
        var plan = SweepPlan.Expand(spec);

        Assert.Equal(["loss", "lr", "loss_alpha"], plan.VariedKeys);
        Assert.Equal(5, plan.SettingCount);
        Assert.Equal(10, plan.Runs.Count);
        Assert.Equal(new[]
        {
            "loss=cross_entropy__lr=0.01__seed=1", "loss=cross_entropy__lr=0.01__seed=2",
            "loss=cross_entropy__lr=0.001__seed=1", "loss=cross_entropy__lr=0.001__seed=2",
            "loss=focal__lr=0.01__seed=1", "loss=focal__lr=0.01__seed=2",
            "loss=focal__lr=0.001__seed=1", "loss=focal__lr=0.001__seed=2",
            "loss=f1+cross_entropy__loss_alpha=0.2__seed=1", "loss=f1+cross_entropy__loss_alpha=0.2__seed=2",
        }, plan.Runs.Select(r => r.Name));

        var last = plan.Runs[^1];
        Assert.Equal("f1+cross_entropy", last.Config.Loss.ToString());
        Assert.Equal(0.2, last.Config.LossAlpha);
        Assert.Equal(2, last.Config.Seed);
        Assert.Equal(2, last.Config.Epochs);           // set applies to every run
        Assert.Equal("baseline", last.Config.Model);    // from the base file, relative to the sweep file
        Assert.Equal(0.001, last.Config.Lr);            // the default lr, since this setting leaves lr alone
        Assert.Equal(["f1+cross_entropy", "0.001", "0.2"], plan.ValuesOf(last));
        Assert.Equal(["focal", "0.01", "0.5"], plan.ValuesOf(plan.Runs[4]));
        // The summary table shows only what a setting sets: a single loss has no loss_alpha of its own.
        Assert.Equal(["f1+cross_entropy", "–", "0.2"], plan.LabelsOf(last));
        Assert.Equal(["focal", "0.01", "–"], plan.LabelsOf(plan.Runs[4]));
    }

    [Fact]
    public void NoGridNoRunsMeansTheBaseAloneAtItsSeed()
    {
        using var dir = new TempDir();
        var file = Write(dir, "s.yaml", "base: {model: baseline, seed: 9, age_cuts: [30, 58]}\n");
        var plan = SweepPlan.Expand(SweepSpec.Load(file, ["epochs=3"]));
        var run = Assert.Single(plan.Runs);
        Assert.Equal("seed=9", run.Name);
        Assert.Equal(3, run.Config.Epochs);
        Assert.Equal(new AgeCuts(30, 58), run.Config.AgeCuts);
        Assert.Empty(plan.VariedKeys);
    }

    [Fact]
    public void ResolvedSweepFileReadsBackToTheSamePlan()
    {
        using var dir = new TempDir();
        var file = Write(dir, "s.yaml", "base: {model: baseline}\nseeds: [3, 4]\ngrid: {loss: [focal, f1]}\nruns: [{loss: label_smoothing, smoothing: 0.3}]\n");
        var spec = SweepSpec.Load(file);
        var again = SweepSpec.Load(Write(dir, "resolved.yaml", spec.ToYaml()));
        Assert.Equal(SweepPlan.Expand(spec).Runs.Select(r => r.Config.ToYaml()), SweepPlan.Expand(again).Runs.Select(r => r.Config.ToYaml()));
        Assert.Equal(SweepPlan.Expand(spec).Runs.Select(r => r.Name), SweepPlan.Expand(again).Runs.Select(r => r.Name));
    }

    [Fact]
    public void RunNamesAreFileSafeStableAndBounded()
    {
        Assert.Equal("age_cuts=30-58__image_size=24x32__seed=1",
            SweepPlan.RunName([new("age_cuts", "30,58"), new("image_size", "24x32")], 1));
        Assert.Equal("data=-tmp-a-b__seed=-3", SweepPlan.RunName([new("data", "/tmp/a b")], -3));

        var longValue = new string('x', 300);
        var a = SweepPlan.RunName([new("data", longValue + "a")], 1);
        var b = SweepPlan.RunName([new("data", longValue + "b")], 1);
        Assert.True(a.Length <= 120);
        Assert.NotEqual(a, b);
        Assert.Equal(a, SweepPlan.RunName([new("data", longValue + "a")], 1));
    }

    [Theory]
    [InlineData("grid: {lossy: [a]}\n", "lossy")]
    [InlineData("grid: {seed: [1, 2]}\n", "seeds")]
    [InlineData("grid: {loss: []}\n", "loss")]
    [InlineData("grid: {loss: [focal, focal]}\n", "twice")]
    [InlineData("seeds: [1, x]\n", "'x'")]
    [InlineData("sweeps: 3\n", "sweeps")]
    [InlineData("runs: [{loss: nope}]\n", "nope")]
    [InlineData("base: missing.yaml\n", "missing.yaml")]
    [InlineData("grid: {epochs: [0]}\n", "epochs")]
    [InlineData("grid: {loss: [focal]}\nruns: [{loss: focal}]\n", "same run name")]
    public void BadSweepFilesFailNamingTheValue(string yaml, string expected)
    {
        using var dir = new TempDir();
        var file = Write(dir, "bad.yaml", (yaml.StartsWith("base:") ? "" : "base: {model: baseline}\n") + yaml);
        var e = Assert.ThrowsAny<MaskLabInputException>(() => SweepPlan.Expand(SweepSpec.Load(file)));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    static SweepRow Row(int setting, string loss, int seed, double f1, double? mask = 0.9) =>
        new(setting, [loss], seed, $"loss={loss}__seed={seed}", f1, mask, 0.8, 0.7, 3, 10 + seed, 100);

    [Fact]
    public void MeanAndSampleStandardDeviation()
    {
        var s = SweepStatistics.Stats([0.80, 0.82, 0.84]);
        Assert.Equal(0.82, s.Mean, 12);
        Assert.Equal(0.02, s.Std, 12);
        Assert.Equal(3, s.N);
        Assert.Equal(0, SweepStatistics.Stats([0.5]).Std);
        Assert.Equal("0.8200 ± 0.0200", s.ToString());
    }

    [Fact]
    public void SummaryRanksSettingsAndMarksThoseWithinTheSeedSpread()
    {
        // a: 0.82 +- 0.02; b: 0.80 +- 0.01 (gap 0.02 <= 0.03: within); c: 0.71 +- 0.01 (gap 0.11: not);
        // d: 0.775 +- 0.0071 (gap 0.045 > 0.0271: not)
        var rows = new List<SweepRow>
        {
            Row(0, "b", 1, 0.79), Row(0, "b", 2, 0.80), Row(0, "b", 3, 0.81),
            Row(1, "a", 1, 0.80), Row(1, "a", 2, 0.82), Row(1, "a", 3, 0.84),
            Row(2, "c", 1, 0.70), Row(2, "c", 2, 0.71), Row(2, "c", 3, 0.72),
            Row(3, "d", 1, 0.77), Row(3, "d", 2, 0.78),
        };
        var summary = SweepStatistics.Summarize(rows);
        Assert.Equal(["a", "b", "d", "c"], summary.Select(s => s.Values[0]));
        Assert.Equal([SweepMark.Best, SweepMark.WithinSpread, SweepMark.None, SweepMark.None], summary.Select(s => s.Mark));
        Assert.Equal(0.80, summary[1].MacroF1.Mean, 12);
        Assert.Equal(0.01, summary[1].MacroF1.Std, 12);
        Assert.Equal(2, summary[2].Seeds);
        Assert.Equal(0.9, summary[0].MaskF1!.Value.Mean, 12);
        Assert.Equal(12, summary[0].Seconds, 12);

        var md = SweepReport.SummaryMarkdown(["loss"], summary, 12);
        var lines = md.Split('\n').Where(l => l.StartsWith('|')).ToArray();
        Assert.Equal("| loss | seeds | val macro F1 | mask F1 | gender F1 | age F1 | s / run | vs best |", lines[0]);
        Assert.Equal("| a | 3 | 0.8200 ± 0.0200 | 0.9000 ± 0.0000 | 0.8000 ± 0.0000 | 0.7000 ± 0.0000 | 12 | best |", lines[2]);
        Assert.EndsWith("| ≈ best |", lines[3]);
        Assert.Contains("11 of 12 runs", md);

        var csv = SweepReport.ResultsCsv(["loss"], rows).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("run,loss,seed,best_val_macro_f1,best_val_mask_f1,best_val_gender_f1,best_val_age_f1,best_epoch,train_seconds,train_images_per_second,eval_macro_f1,eval_mask_f1,eval_gender_f1,eval_age_f1,failure", csv[0]);
        Assert.Equal("loss=b__seed=1,b,1,0.79,0.9,0.8,0.7,3,11,100,,,,,", csv[1]);
        Assert.Equal(12, csv.Length);
    }

    [Fact]
    public void FailedRunsAreListedApartAndEvalScoresGetAColumn()
    {
        var rows = new List<SweepRow>
        {
            Row(0, "a", 1, 0.80) with { EvalMacroF1 = 0.70 }, Row(0, "a", 2, 0.82) with { EvalMacroF1 = 0.74 },
            Row(1, "b", 1, 0.60) with { EvalMacroF1 = 0.50 },
        };
        var failed = new SweepRun(1, [new("loss", "b")], 2, "loss=b__seed=2", new RunConfig());
        rows.Add(SweepRow.Failed(failed, ["b"], "loss became NaN at epoch 2, batch 5"));

        var summary = SweepStatistics.Summarize(rows);
        Assert.Equal(2, summary[0].Seeds);
        Assert.Equal(1, summary[1].Seeds); // the failed seed is not averaged in as a score
        Assert.Equal(0.72, summary[0].EvalMacroF1!.Value.Mean, 12);

        var md = SweepReport.SummaryMarkdown(["loss"], summary, 4, rows.Where(r => r.Failure is not null).ToList());
        var lines = md.Split('\n').Where(l => l.StartsWith('|')).ToArray();
        Assert.Equal("| loss | seeds | val macro F1 | mask F1 | gender F1 | age F1 | eval macro F1 | s / run | vs best |", lines[0]);
        Assert.Contains("| 0.7200 ± 0.0283 |", lines[2]);
        Assert.Contains("3 of 4 runs finished, 1 failed", md);
        Assert.Contains("- `loss=b__seed=2`: loss became NaN at epoch 2, batch 5", md);

        var csv = SweepReport.ResultsCsv(["loss"], rows).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("loss=a__seed=1,a,1,0.8,0.9,0.8,0.7,3,11,100,0.7,,,,", csv[1]);
        Assert.Equal("loss=b__seed=2,b,2,,,,,,,,,,,,\"loss became NaN at epoch 2, batch 5\"", csv[4]);
    }

    [Fact]
    public void OneSeedGivesNoMarksAndMissingAttributesStayEmpty()
    {
        var summary = SweepStatistics.Summarize([Row(0, "a", 1, 0.8, mask: null), Row(1, "b", 1, 0.79, mask: null)]);
        Assert.All(summary, s => Assert.Equal(SweepMark.None, s.Mark));
        Assert.Null(summary[0].MaskF1);
        Assert.Equal("0.8000", summary[0].MacroF1.ToString());
    }
}

/// <summary>A 2-setting x 2-seed sweep trained on the tiny synthetic set, killed and continued.</summary>
[Collection(CliConsoleCollection.Name)]
public class SweepRunTests
{
    sealed class Recorder(Action<int>? afterRun = null) : ISweepObserver
    {
        public List<(string Name, RunState State)> Started { get; } = [];
        public void RunStarting(SweepRun run, int index, int total, RunState state) => Started.Add((run.Name, state));
        public void RunFinished(SweepRun run, int index, int total, RunSummary summary, bool skipped) => afterRun?.Invoke(index);
    }

    /// <summary>A base config that trains in seconds on the tiny synthetic set.</summary>
    static string TinyBase(string extra = "") => $"""
        base:
          model: baseline
          image_size: 24x32
          batch_size: 16
          warmup_epochs: 0
          threads: 2
          data: {TinySynthetic.Root}
        {extra}
        """;

    static string SweepFile(string dir, string seeds = "[1, 2]", string losses = "[cross_entropy, focal]")
    {
        var file = Path.Combine(dir, "tiny-sweep.yaml");
        File.WriteAllText(file, TinyBase() + $"""

            set: {"{epochs: 1}"}
            seeds: {seeds}
            grid:
              loss: {losses}
            """);
        return file;
    }

    [Fact]
    public void KilledSweepSkipsFinishedRunsResumesTheUnfinishedOneAndSummarises()
    {
        using var dir = new TempDir();
        var spec = SweepSpec.Load(SweepFile(dir.Path));
        var plan = SweepPlan.Expand(spec);
        var outDir = Path.Combine(dir.Path, "out");
        Assert.Equal(4, plan.Runs.Count);

        // A kill after the first run: the token fires as the run completes, the next run never starts.
        using var cts = new CancellationTokenSource();
        var first = new Recorder(_ => cts.Cancel());
        Assert.ThrowsAny<OperationCanceledException>(() => new Sweep(plan, outDir, sweepObserver: first).Run(spec, cts.Token));
        Assert.Equal([(plan.Runs[0].Name, RunState.NotStarted)], first.Started);
        Assert.True(File.Exists(Path.Combine(outDir, plan.Runs[0].Name, "summary.json")));
        Assert.All(plan.Runs.Skip(1), r => Assert.False(Directory.Exists(Path.Combine(outDir, r.Name))));
        var firstSummary = File.ReadAllText(Path.Combine(outDir, plan.Runs[0].Name, "summary.json"));

        var second = new Recorder();
        var rows = new Sweep(plan, outDir, sweepObserver: second).Run(spec);
        Assert.Equal([RunState.Finished, RunState.NotStarted, RunState.NotStarted, RunState.NotStarted], second.Started.Select(s => s.State));
        Assert.Equal(firstSummary, File.ReadAllText(Path.Combine(outDir, plan.Runs[0].Name, "summary.json"))); // not retrained
        Assert.Equal(4, rows.Count);
        Assert.All(rows, r => Assert.InRange(r.MacroF1, 0, 1));
        Assert.Equal(rows.Select(r => r.Seed), [1, 2, 1, 2]);

        foreach (var run in plan.Runs)
            foreach (var f in new[] { "config.yaml", "split.json", "metrics.jsonl", "summary.json", "metadata.json", "checkpoints/last.ckpt" })
                Assert.True(File.Exists(Path.Combine(outDir, run.Name, f)), $"{run.Name} lacks {f}");
        // The seed changes the person split, so the two seeds of a setting do not validate on the same people.
        Assert.NotEqual(File.ReadAllText(Path.Combine(outDir, plan.Runs[0].Name, "split.json")),
            File.ReadAllText(Path.Combine(outDir, plan.Runs[1].Name, "split.json")));

        var csv = File.ReadAllLines(new SweepDirectory(outDir).ResultsFile);
        Assert.Equal(5, csv.Length);
        Assert.StartsWith("run,loss,seed,best_val_macro_f1", csv[0]);
        // The tiny set has eval/ with answers: every run wrote a submission and was scored on it.
        Assert.All(rows, r => Assert.InRange(r.EvalMacroF1!.Value, 0, 1));
        foreach (var run in plan.Runs)
            Assert.True(File.Exists(Path.Combine(outDir, run.Name, "submission.csv")), $"{run.Name} lacks submission.csv");
        var md = File.ReadAllText(new SweepDirectory(outDir).SummaryFile);
        Assert.Contains("eval macro F1", md);
        Assert.Contains("4 of 4 runs", md);
        Assert.Contains("| cross_entropy | 2 |", md);
        Assert.Contains("| focal | 2 |", md);
        Assert.Contains("best |", md);
        Assert.True(File.Exists(new SweepDirectory(outDir).SpecFile));

        // A run killed mid-way (a checkpoint, no complete summary) is resumed, not restarted or skipped.
        File.Delete(Path.Combine(outDir, plan.Runs[3].Name, "summary.json"));
        Assert.Equal(RunState.Unfinished, RunStates.Of(new RunDirectory(Path.Combine(outDir, plan.Runs[3].Name)), plan.Runs[3].Config.Epochs));
        var third = new Recorder();
        new Sweep(plan, outDir, sweepObserver: third).Run(spec);
        Assert.Equal([RunState.Finished, RunState.Finished, RunState.Finished, RunState.Unfinished], third.Started.Select(s => s.State));
        Assert.True(File.Exists(Path.Combine(outDir, plan.Runs[3].Name, "summary.json")));
        Assert.Single(File.ReadAllLines(Path.Combine(outDir, plan.Runs[3].Name, "metrics.jsonl")));

        // The same folder with a changed sweep is refused rather than mixed up.
        var changed = SweepPlan.Expand(SweepSpec.Load(SweepFile(dir.Path), ["lr=0.01"]));
        var e = Assert.ThrowsAny<MaskLabInputException>(() => new Sweep(changed, outDir).Run(spec));
        Assert.Contains("lr=", e.Message);
    }

    [Fact]
    public void ADivergingRunIsRecordedAsFailedAndTheSweepGoesOn()
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "diverging.yaml");
        File.WriteAllText(file, TinyBase("  epochs: 1") + """

            seeds: [1]
            runs:
              - {lr: 1e30}
              - {lr: 0.001}
            """);
        var spec = SweepSpec.Load(file);
        var plan = SweepPlan.Expand(spec);
        var outDir = Path.Combine(dir.Path, "out");

        var rows = new Sweep(plan, outDir).Run(spec);
        Assert.Equal(2, rows.Count);
        Assert.Contains("loss became", rows[0].Failure);
        Assert.Null(rows[1].Failure);
        Assert.InRange(rows[1].MacroF1, 0, 1);
        var md = File.ReadAllText(new SweepDirectory(outDir).SummaryFile);
        Assert.Contains("1 failed", md);
        Assert.Contains(plan.Runs[0].Name, md);

        Assert.Equal(RunState.Failed, RunStates.Of(new RunDirectory(Path.Combine(outDir, plan.Runs[0].Name)), plan.Runs[0].Config.Epochs));

        // Run again, the verb does not retrain the diverged run (it would diverge at the same batch) or the
        // finished one, prints the table and exits 1 naming the failure.
        var r = CliHarness.Run("sweep", "--config", file, "--out", outDir);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("failed before", r.Stdout);
        Assert.Contains("finished, skipped", r.Stdout);
        Assert.Contains("val macro F1 over seeds", r.Stdout);
        Assert.Contains("1 of 2 runs failed", r.Stderr);
    }

    [Fact]
    public void SweepVerbPrintsTheTableAndContinuesAFolder()
    {
        using var dir = new TempDir();
        var file = SweepFile(dir.Path, seeds: "[3]", losses: "[cross_entropy]");
        var outDir = Path.Combine(dir.Path, "out");

        var r = CliHarness.Run("sweep", "--config", file, "--out", outDir);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("val macro F1 over seeds", r.Stdout);
        Assert.Contains("cross_entropy", r.Stdout);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(outDir, "results.csv")).Length);

        var again = CliHarness.Run("sweep", "--config", file, "--out", outDir);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("finished, skipped", again.Stdout);

        var dry = CliHarness.Run("sweep", "--config", file, "--out", outDir, "--dry-run");
        Assert.Equal(0, dry.ExitCode);
        Assert.Contains("Finished", dry.Stdout);

        Assert.Equal(0, CliHarness.Run("sweep", "--help").ExitCode);
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["sweep", "--config", "/nonexistent/s.yaml", "--out", outDir], "/nonexistent/s.yaml"),
            (["sweep", "--config", file], "--out"),
            (["sweep", "--config", file, "--out", outDir, "--set", "lr=-1"], "lr -1"),
        })
        {
            var bad = CliHarness.Run(args);
            Assert.True(bad.ExitCode == 2, $"{string.Join(" ", args)} -> {bad.ExitCode}: {bad.Stdout} {bad.Stderr}");
            Assert.Contains(expected, bad.Stderr);
            Assert.Single(bad.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
    }
}
