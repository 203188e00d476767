using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using MaskLab.Data.Faces;
using Xunit.Abstractions;

namespace MaskLab.Tests;

/// <summary>
/// Seeded mutations of every file a user hands MaskLab (train.csv, info.csv, a config YAML, photos) and of a checkpoint
/// it wrote: cut short, bits flipped, fields of the wrong type, huge values. Whatever the mutation, the command ends
/// with exit 0, or exit 2 and one error line (exit 1 only for a loss that diverged, which is the run's result, not a
/// crash), never a stack trace; it leaves no temporary file, no run folder when it refuses, and changes no file it did
/// not create. Most mutations are refused while the inputs are read, so few of them train.
/// </summary>
[Collection(CliConsoleCollection.Name)]
public sealed class FuzzTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>Fixed, so a failure repeats; MASKLAB_FUZZ_SEED tries other mutations (and MASKLAB_FUZZ_SCALE more of them) by hand.</summary>
    static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("MASKLAB_FUZZ_SEED"), out var s) ? s : 1414;

    static readonly int Scale = int.TryParse(Environment.GetEnvironmentVariable("MASKLAB_FUZZ_SCALE"), out var k) && k > 0 ? k : 1;

    readonly string work = Directory.CreateTempSubdirectory("masklab-fuzz-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(work, recursive: true); } catch (IOException) { }
    }

    static readonly string[] BadValues =
    [
        "", "abc", "-1", "0", "1e309", "-1e309", "99999999999999999999", "2147483648", "NaN", "1.5", " ", "\"", "a,b",
        "../../../etc/passwd", "x\u0000y", "\u00e9\u00e8", new string('9', 400), new string('a', 5000),
    ];

    static readonly string[] BadYamlValues =
    [
        "", "~", "abc", "-1", "0", "1e309", "-1e309", "99999999999999999999", "2147483647", "-2147483648", "1e308", ".nan", ".inf",
        "[1, 2]", "{a: 1}", "yes", "0x10", "9999999999x9999999999", "8193x16", "0x0", "16x16x16", "'16x16'", "\"", "&a 1", "*b",
        "!!binary aGVsbG8=", "\"\\u0000\"", new string('z', 3000),
    ];

    /// <summary>Config keys a huge value may go to: not epochs, whose huge value is valid and only slow.</summary>
    static readonly string[] FuzzedKeys =
    [
        "model", "loss", "loss_alpha", "smoothing", "focal_gamma", "class_weights", "head", "head_weights", "batch_size", "lr",
        "weight_decay", "momentum", "optimizer", "scheduler", "step_size", "step_gamma", "warmup_epochs", "patience", "seed",
        "image_size", "precision", "device", "threads", "val_ratio", "fold", "age_cuts", "augment", "weighted_sampler", "split",
        "cutmix", "cutmix_vertical", "mixup", "cutout", "mixup_alpha", "cutmix_alpha", "skip_bad", "weights",
    ];

    const string BaseConfig = """
        model: baseline
        epochs: 1
        batch_size: 16
        image_size: 16x16
        lr: 0.001
        optimizer: adamw
        warmup_epochs: 0
        threads: 1
        seed: 3
        augment: true
        """;

    sealed record Tally(string Target)
    {
        public int Mutations, Ok, Refused, Diverged;
        public readonly List<string> Failures = [];
        public override string ToString() => $"{Target}: {Mutations} mutations, {Ok} exit 0, {Refused} exit 2, {Diverged} diverged (exit 1)";
    }

    [Fact]
    public void TrainCsvMutations() => FuzzDataFile(Path.Combine("train", "train.csv"), 60, csv: true);

    [Fact]
    public void InfoCsvMutations() => FuzzDataFile(Path.Combine("eval", "info.csv"), 50, csv: true);

    [Fact]
    public void PhotoMutations()
    {
        var data = FaultData.CopyTo(Path.Combine(work, "data"));
        var photos = Directory.GetFiles(Path.Combine(data, "train", "images"), "*", SearchOption.AllDirectories)
            .Where(f => !Path.GetFileName(f).StartsWith('.'))
            .Concat(Directory.GetFiles(Path.Combine(data, "eval", "images")))
            .Order(StringComparer.Ordinal).ToArray();
        var random = new Random(Seed + 3);
        var tally = new Tally("photos");
        for (int i = 0; i < 50 * Scale; i++)
        {
            var photo = photos[random.Next(photos.Length)];
            var pristine = File.ReadAllBytes(photo);
            var (what, bytes) = MutateBinary(pristine, random);
            File.WriteAllBytes(photo, bytes);
            try
            {
                Check(tally, $"{Path.GetRelativePath(data, photo)} {what}", data, null,
                    out_ => ["train", "--data", data, "--out", out_, "--set", "epochs=1", .. FaultData.TinySet]);
            }
            finally { File.WriteAllBytes(photo, pristine); }
        }
        Report(tally);
    }

    [Fact]
    public void ConfigMutations()
    {
        var data = FaultData.Root;
        var configDir = Directory.CreateDirectory(Path.Combine(work, "config")).FullName;
        var file = Path.Combine(configDir, "run.yaml");
        var random = new Random(Seed + 4);
        var tally = new Tally("config YAML");
        for (int i = 0; i < 70 * Scale; i++)
        {
            var (what, text) = MutateYaml(BaseConfig, random);
            File.WriteAllBytes(file, text);
            Check(tally, $"run.yaml {what}", configDir, data, out_ => ["train", "--config", file, "--data", data, "--out", out_]);
        }
        Report(tally);
    }

    [Fact]
    public void CheckpointMutations()
    {
        // One run, trained once; each mutation damages one of its checkpoints, which predict (best.ckpt) or a
        // resume with one more epoch (last.ckpt) then reads. The run folder is put back after each.
        var run = Path.Combine(work, "run");
        var trained = CliHarness.Run(["train", "--data", FaultData.Root, "--out", run, "--set", "epochs=1", .. FaultData.TinySet]);
        Assert.True(trained.ExitCode == 0, trained.Stderr);
        var pristineRun = Path.Combine(work, "run-pristine");
        CopyFolder(run, pristineRun);
        var random = new Random(Seed + 5);
        var tally = new Tally("checkpoints");
        for (int i = 0; i < 40 * Scale; i++)
        {
            bool best = i % 2 == 0;
            var ckpt = Path.Combine(run, "checkpoints", best ? "best.ckpt" : "last.ckpt");
            var (what, bytes) = MutateBinary(File.ReadAllBytes(ckpt), random);
            File.WriteAllBytes(ckpt, bytes);
            if (!best)
            {
                var config = Path.Combine(run, "config.yaml");
                File.WriteAllText(config, File.ReadAllText(config).Replace("epochs: 1", "epochs: 2"));
            }
            var outcome = Check(tally, $"{Path.GetFileName(ckpt)} {what}", FaultData.Root, null, out_ => best
                ? ["predict", "--run", run, "--data", FaultData.Root, "--out", Path.Combine(out_, "submission.csv"), "--checkpoint", "best"]
                : ["train", "--resume", run]);
            // A checkpoint that is not the one written is never used: every mutation that changes it is refused as damaged.
            if (!what.StartsWith("unchanged", StringComparison.Ordinal) && !(outcome.ExitCode == 2 && outcome.Stderr.Contains(Path.GetFileName(ckpt))))
                tally.Failures.Add($"{Path.GetFileName(ckpt)} {what}: exit {outcome.ExitCode}, not refused as damaged: {outcome.Stderr}");
            if (Tree.TemporaryFiles(run) is { Count: > 0 } left) tally.Failures.Add($"{what}: left {string.Join(", ", left)}");
            Directory.Delete(run, recursive: true);
            CopyFolder(pristineRun, run);
        }
        Report(tally);
    }

    // ---- layouts with links and FIFOs, oversized configs and plans, caches with random bytes ----

    /// <summary>A FIFO at <paramref name="path"/> (replacing what is there); false where mkfifo(1) is missing.</summary>
    static bool MakeFifo(string path)
    {
        if (!File.Exists("/usr/bin/mkfifo")) return false;
        File.Delete(path);
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/usr/bin/mkfifo", [path]) { UseShellExecute = false })!;
        p.WaitForExit();
        return p.ExitCode == 0;
    }

    static void Link(string path, string target, bool folder)
    {
        if (File.Exists(path)) File.Delete(path);
        else if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        if (folder) Directory.CreateSymbolicLink(path, target); else File.CreateSymbolicLink(path, target);
    }

    /// <summary>The fault set as an image folder: one class folder per mask state of the photo names.</summary>
    static string AsImageFolder(string data, string to)
    {
        foreach (var photo in Directory.GetFiles(Path.Combine(data, "train", "images"), "*", SearchOption.AllDirectories).Where(f => !Path.GetFileName(f).StartsWith('.')))
        {
            var stem = Path.GetFileNameWithoutExtension(photo);
            var cls = stem.StartsWith("mask", StringComparison.Ordinal) ? "wear" : stem;
            var target = Path.Combine(to, cls, $"{Path.GetFileName(Path.GetDirectoryName(photo))}-{Path.GetFileName(photo)}");
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(photo, target);
        }
        return to;
    }

    [Fact]
    public void LayoutMutations()
    {
        // Each kind changes a fresh copy of the set: folder links (loops, to the root, to another person), files that are
        // links (dangling, to themselves, to a device) and FIFOs where photos and CSVs are expected.
        var kinds = new (string Name, Func<string, string> Apply)[]
        {
            ("person folder holds a link to its parent", d => { Link(Path.Combine(Person(d, 0), "up"), "..", folder: true); return d; }),
            ("person folder is a link to another person", d => { Link(Path.Combine(d, "train", "images", "000999_male_Asian_30"), Person(d, 1), folder: true); return d; }),
            ("person folder is a link to /", d => { Link(Person(d, 2), "/", folder: true); return d; }),
            ("images/ is a link to itself", d => { Link(Path.Combine(d, "train", "images"), "images", folder: true); return d; }),
            ("eval/images is a link to train/images", d => { Link(Path.Combine(d, "eval", "images"), Path.Combine(d, "train", "images"), folder: true); return d; }),
            ("a photo is a FIFO", d => { MakeFifo(Photo(d, 0)); return d; }),
            ("an eval photo is a FIFO", d => { MakeFifo(Directory.GetFiles(Path.Combine(d, "eval", "images")).Order(StringComparer.Ordinal).First()); return d; }),
            ("a photo is a link to /dev/zero", d => { Link(Photo(d, 1), "/dev/zero", folder: false); return d; }),
            ("a photo is a dangling link", d => { Link(Photo(d, 2), "nowhere.jpg", folder: false); return d; }),
            ("a photo is a link to itself", d => { var p = Photo(d, 3); Link(p, Path.GetFileName(p), folder: false); return d; }),
            ("train.csv is a FIFO", d => { MakeFifo(Path.Combine(d, "train", "train.csv")); return d; }),
            ("info.csv is a FIFO", d => { MakeFifo(Path.Combine(d, "eval", "info.csv")); return d; }),
            ("answers.csv is a link to /dev/urandom", d => { Link(Path.Combine(d, "eval", "answers.csv"), "/dev/urandom", folder: false); return d; }),
            ("image folder with a class link to its parent", d => { var f = AsImageFolder(d, d + "-images"); Link(Path.Combine(f, "wear", "up"), "..", folder: true); return f; }),
            ("image folder with a class that is a link to /", d => { var f = AsImageFolder(d, d + "-images"); Link(Path.Combine(f, "root"), "/", folder: true); return f; }),
            ("image folder with a FIFO photo", d => { var f = AsImageFolder(d, d + "-images"); MakeFifo(Directory.GetFiles(Path.Combine(f, "normal")).Order(StringComparer.Ordinal).First()); return f; }),
        };
        var random = new Random(Seed + 6);
        var tally = new Tally("layouts with links and FIFOs");
        var order = Enumerable.Range(0, kinds.Length * Scale).Select(i => i % kinds.Length).OrderBy(_ => random.Next()).ToArray();
        foreach (var k in order)
        {
            var (name, apply) = kinds[k];
            var copy = FaultData.CopyTo(Path.Combine(work, $"layout-{tally.Mutations}"));
            var data = apply(copy);
            Check(tally, name, data, null, out_ => ["train", "--data", data, "--out", out_, "--set", "epochs=1", .. FaultData.TinySet]);
        }
        Report(tally);
    }

    static string Person(string data, int i) =>
        Directory.GetDirectories(Path.Combine(data, "train", "images")).Order(StringComparer.Ordinal).ElementAt(i);

    static string Photo(string data, int i) =>
        Directory.GetFiles(Person(data, i), "mask1.*").Single();

    [Fact]
    public void OversizedConfigsAndPlans()
    {
        var dir = Directory.CreateDirectory(Path.Combine(work, "configs")).FullName;
        var fifo = Path.Combine(dir, "fifo.yaml");
        MakeFifo(fifo);
        string Write(string name, string text)
        {
            var path = Path.Combine(dir, name);
            if (!File.Exists(path)) File.WriteAllText(path, text);
            return path;
        }
        const string SweepBase = "base:\n  model: baseline\n  image_size: 16x16\n  epochs: 1\n";
        string Values(int n) => "[" + string.Join(", ", Enumerable.Range(1, n).Select(i => (i * 1e-5).ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]";
        var kinds = new (string Name, Func<string[]> Config, bool Sweep)[]
        {
            ("config /dev/zero", () => ["/dev/zero"], false),
            ("config /dev/urandom", () => ["/dev/urandom"], false),
            ("config a FIFO", () => [fifo], false),
            ("config of 2 MiB", () => [Write("2mib.yaml", "model: baseline\nnotes: " + new string('n', 2 << 20) + "\n")], false),
            ("a 900 KB value", () => [Write("900k.yaml", "model: " + new string('m', 900_000) + "\n")], false),
            ("60,000 unknown keys", () => [Write("keys.yaml", string.Concat(Enumerable.Range(0, 60_000).Select(i => $"k{i}: 1\n")))], false),
            ("lists nested 100,000 deep", () => [Write("deep.yaml", "model: " + new string('[', 100_000) + "\n")], false),
            ("aliases nine levels deep", () => [Write("laughs.yaml", string.Concat(Enumerable.Range(0, 9).Select(i => $"l{i}: &l{i} [{string.Join(", ", Enumerable.Repeat(i == 0 ? "lol" : $"*l{i - 1}", 9))}]\n")))], false),
            ("--set of 100,000 characters", () => ["--set", "model=" + new string('q', 100_000)], false),
            ("sweep /dev/zero", () => ["/dev/zero"], true),
            ("sweep grid of 10 keys x 10 values", () => [Write("grid.yaml", SweepBase + "grid:\n" + string.Concat(new[] { "lr", "weight_decay", "momentum", "smoothing", "loss_alpha", "focal_gamma", "step_gamma", "mixup_alpha", "cutmix_alpha", "face_margin" }.Select(k => $"  {k}: {Values(10)}\n")))], true),
            ("sweep grid key of 20,000 values", () => [Write("wide.yaml", SweepBase + $"grid:\n  lr: {Values(20_000)}\n")], true),
            ("sweep of 50,000 seeds", () => [Write("seeds.yaml", SweepBase + $"seeds: [{string.Join(", ", Enumerable.Range(0, 50_000))}]\n")], true),
            ("sweep of 10,001 listed runs", () => [Write("runs.yaml", SweepBase + "runs:\n" + string.Concat(Enumerable.Range(0, 10_001).Select(i => $"  - {{lr: {(i + 1) * 1e-6:R}}}\n")))], true),
            ("sweep grid of nested lists", () => [Write("nested.yaml", SweepBase + "grid:\n  lr: [[0.1, 0.2], [0.3]]\n")], true),
            ("sweep config a FIFO", () => [fifo], true),
        };
        var random = new Random(Seed + 7);
        var tally = new Tally("oversized configs and plans");
        var order = Enumerable.Range(0, kinds.Length * Scale).Select(i => i % kinds.Length).OrderBy(_ => random.Next()).ToArray();
        foreach (var k in order)
        {
            var (name, config, sweep) = kinds[k];
            var args = config();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var r = Check(tally, name, dir, null, out_ => sweep
                ? ["sweep", "--config", args[0], "--out", out_, "--data", FaultData.Root, "--dry-run"]
                : args[0] == "--set"
                    ? ["train", "--data", FaultData.Root, "--out", out_, .. args]
                    : ["train", "--config", args[0], "--data", FaultData.Root, "--out", out_]);
            if (r.ExitCode != 2) tally.Failures.Add($"{name}: exit {r.ExitCode}, not refused");
            else if (r.Stderr.Length > 2500) tally.Failures.Add($"{name}: an error of {r.Stderr.Length} characters");
            if (clock.Elapsed > TimeSpan.FromSeconds(20)) tally.Failures.Add($"{name}: took {clock.Elapsed.TotalSeconds:F0} s");
        }
        Report(tally);
    }

    sealed class OneFaceDetector : IFaceDetector
    {
        public string Id => "one-face";
        public int InputSide => 64;
        public IReadOnlyList<FaceDetection> Detect(ReadOnlySpan<byte> rgb, int width, int height) => [new(new FaceBox(1, 2, width / 2f, height / 2f), 0.9f)];
        public void Dispose() { }
    }

    [Fact]
    public void CacheMutations()
    {
        // Caches under MASKLAB_HOME with random bytes: the face boxes, converted weights and the synthetic default set.
        // Whatever the damage, the next use rebuilds what it cannot read (or keeps what still reads as valid) and never fails.
        var random = new Random(Seed + 8);
        var tally = new Tally("caches");
        var photos = Directory.GetFiles(Path.Combine(FaultData.Root, "eval", "images")).Order(StringComparer.Ordinal).ToArray();
        var side = Path.Combine(work, "cache", "face-boxes-one-face.csv");
        using var detector = new OneFaceDetector();
        var pristineBoxes = FaceBoxStore.Ensure(side, photos, detector).ByPath;
        var pristineSide = File.ReadAllBytes(side);

        var weights = Path.Combine(work, "cache", "weights", "tiny.safetensors");
        Dictionary<string, TorchSharp.torch.Tensor> Convert() => new() { ["w"] = TorchSharp.torch.arange(12f).reshape(3, 4), ["b"] = TorchSharp.torch.ones(3) };
        WeightCache.Ensure(weights, "ab12", Convert);
        var pristineWeights = File.ReadAllBytes(weights);
        var pristineRecord = File.ReadAllBytes(WeightCache.RecordFile(weights));

        var set = Path.Combine(work, "cache", "synthetic");
        var options = FaultData.Options with { People = 10, EvalPeople = 1 };
        SyntheticGenerator.Generate(set, options, replaceOther: true);
        var marker = Path.Combine(set, SyntheticGenerator.MarkerFile);
        var pristineMarker = File.ReadAllBytes(marker);

        for (int i = 0; i < 30 * Scale; i++)
        {
            tally.Mutations++;
            string what = "";
            try
            {
                switch (i % 5)
                {
                    case 0 or 1:
                    {
                        var (how, bytes) = random.Next(2) == 0 ? MutateBinary(pristineSide, random) : MutateCsv(Encoding.UTF8.GetString(pristineSide), random);
                        what = $"face boxes {how}";
                        File.WriteAllBytes(side, bytes);
                        var again = FaceBoxStore.Ensure(side, photos, detector);
                        if (again.Report.CacheDamage is { } note)
                        {
                            if (!again.ByPath.OrderBy(e => e.Key).SequenceEqual(pristineBoxes.OrderBy(e => e.Key))) tally.Failures.Add($"{what}: rebuilt boxes differ");
                            if (!File.ReadAllBytes(side).AsSpan().SequenceEqual(pristineSide)) tally.Failures.Add($"{what}: the rebuilt file differs");
                            if (note.Any(char.IsControl)) tally.Failures.Add($"{what}: the note echoes control characters");
                            tally.Refused++;
                        }
                        else tally.Ok++;
                        File.WriteAllBytes(side, pristineSide);
                        break;
                    }
                    case 2 or 3:
                    {
                        bool record = i % 5 == 3;
                        var file = record ? WeightCache.RecordFile(weights) : weights;
                        var (how, bytes) = MutateBinary(record ? pristineRecord : pristineWeights, random);
                        what = $"{Path.GetFileName(file)} {how}";
                        File.WriteAllBytes(file, bytes);
                        var result = WeightCache.Ensure(weights, "ab12", Convert);
                        if (WeightCache.Problem(weights, "ab12") is { } still) tally.Failures.Add($"{what}: still unusable after Ensure: {still}");
                        if (result.Outcome == WeightCacheOutcome.Reused && !how.StartsWith("unchanged", StringComparison.Ordinal) && !record)
                            tally.Failures.Add($"{what}: damaged weights reused");
                        if (result.Outcome == WeightCacheOutcome.Reused) tally.Ok++; else tally.Refused++;
                        break;
                    }
                    default:
                    {
                        var (how, bytes) = MutateBinary(pristineMarker, random);
                        what = $"synthetic set marker {how}";
                        File.WriteAllBytes(marker, bytes);
                        var report = SyntheticGenerator.Generate(set, options, replaceOther: true);
                        if (!SyntheticGenerator.IsComplete(set, options)) tally.Failures.Add($"{what}: the set is not complete after Generate");
                        if (report.Reused) tally.Ok++; else tally.Refused++;
                        break;
                    }
                }
            }
            catch (Exception e)
            {
                tally.Failures.Add($"{what}: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
            }
        }
        output.WriteLine($"{tally.Target}: {tally.Mutations} mutations, {tally.Ok} still valid and kept, {tally.Refused} found damaged and rebuilt");
        Assert.True(tally.Failures.Count == 0, string.Join("\n", tally.Failures));
    }

    [Fact]
    public void OutputsAimedAtInputs()
    {
        // Every command that writes a file of its own, aimed at a seeded choice of files it must never replace: each
        // file of a trained run, of a k-fold root and of the data set, reached directly, through a link to the file,
        // through a link to its folder, or through a path with '..' in it. Each is refused in one line, and nothing
        // of the run, the k-fold root or the data set changes.
        var run = Path.Combine(work, "run");
        var trained = CliHarness.Run(["train", "--data", FaultData.Root, "--out", run, "--set", "epochs=1", .. FaultData.TinySet]);
        Assert.True(trained.ExitCode == 0, trained.Stderr);
        var kfold = Path.Combine(work, "kfold");
        var cv = CliHarness.Run(["train", "--data", FaultData.Root, "--out", kfold, "--set", "epochs=1", "--set", "folds=2", .. FaultData.TinySet]);
        Assert.True(cv.ExitCode == 0, cv.Stderr);
        var data = FaultData.CopyTo(Path.Combine(work, "data"));
        var links = Directory.CreateDirectory(Path.Combine(work, "links")).FullName;
        var targets = new[] { run, kfold, data }.SelectMany(d => Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories))
            .Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal).ToArray();
        var before = new[] { run, kfold, data }.Select(Tree.Snapshot).ToArray();
        var random = new Random(Seed + 11);
        var tally = new Tally("outputs aimed at inputs");
        string sub = Path.Combine(work, "sub.csv");
        Func<string, string[]>[] commands =
        [
            t => ["predict", "--run", run, "--data", data, "--out", t],
            t => ["predict", "--run", run, "--data", data, "--out", sub, "--probs", t],
            t => ["predict", "--run", kfold, "--data", Path.Combine(data, "eval"), "--out", t],
            t => ["audit", "--run", kfold, "--fixes", t],
            t => ["report", run, "--out", t],
            t => ["export", "--run", run, "--out", t, "--check", "0"],
        ];
        for (int i = 0; i < 60 * Scale; i++)
        {
            tally.Mutations++;
            var file = targets[random.Next(targets.Length)];
            string target, how;
            switch (random.Next(4))
            {
                case 0: (target, how) = (file, "directly"); break;
                case 1:
                    target = Path.Combine(links, $"file-{i}");
                    File.CreateSymbolicLink(target, file);
                    how = "through a link to the file";
                    break;
                case 2:
                    var folderLink = Path.Combine(links, $"dir-{i}");
                    Directory.CreateSymbolicLink(folderLink, Path.GetDirectoryName(file)!);
                    (target, how) = (Path.Combine(folderLink, Path.GetFileName(file)), "through a link to its folder");
                    break;
                default:
                    var parent = Path.GetDirectoryName(file)!;
                    (target, how) = (Path.Combine(parent, "..", Path.GetFileName(parent), Path.GetFileName(file)), "with '..' in the path");
                    break;
            }
            var command = commands[random.Next(commands.Length)](target);
            var what = $"{command[0]} {string.Join(' ', command.Skip(1).Where(a => a.StartsWith("--", StringComparison.Ordinal)))} at {Path.GetRelativePath(work, file)} {how}";
            CliResult r;
            try { r = CliHarness.Run(command); }
            catch (Exception e) { tally.Failures.Add($"{what}: threw {e.GetType().Name}: {e.Message}"); continue; }
            var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (r.ExitCode != 2 || lines.Length != 1 || !lines[0].StartsWith("masklab: error:", StringComparison.Ordinal))
                tally.Failures.Add($"{what}: exit {r.ExitCode}, stderr {r.Stderr.ReplaceLineEndings(" ")}");
            else tally.Refused++;
            var changed = new[] { run, kfold, data }.SelectMany((d, k) => Tree.Differences(before[k], Tree.Snapshot(d))).ToList();
            if (changed.Count > 0)
            {
                tally.Failures.Add($"{what}: changed {string.Join(", ", changed)}");
                break;
            }
        }
        Assert.False(File.Exists(sub), "a refused prediction wrote its submission");
        Report(tally);
    }

    [Fact]
    public async Task SpecialFilesInServedFolders()
    {
        // FIFOs, links to character devices and sockets put in a seeded choice of places under the runs folder and a
        // data folder: in place of a run's own files, as extra files, as photos. Every route of the dashboard answers
        // within a bound, and none of them serves the special file.
        if (!OperatingSystem.IsLinux()) return;
        var random = new Random(Seed + 12);
        var tally = new Tally("special files in served folders");
        string[] runFiles = ["metrics.jsonl", "summary.json", "metadata.json", "config.yaml", "failure.txt", "val_predictions.csv",
            "confusion.csv", "per_class.csv", "split.json", "oof.csv", "report.html", "extra.csv", "notes.md"];
        for (int round = 0; round < 4 * Scale; round++)
        {
            var root = Directory.CreateDirectory(Path.Combine(work, $"served-{round}")).FullName;
            var runs = Directory.CreateDirectory(Path.Combine(root, "runs")).FullName;
            var data = DashboardFakes.Data(Path.Combine(root, "data"), "000001_male_Asian_45");
            var placed = new List<string>();
            for (int k = 0; k < 3; k++)
            {
                var dir = DashboardFakes.Run(Path.Combine(runs, $"r{k}"), [0.2, 0.3]).Path;
                foreach (var name in runFiles.Where(_ => random.Next(3) == 0))
                    placed.Add(MakeSpecial(Path.Combine(dir, name), random));
            }
            placed.Add(MakeSpecial(Path.Combine(data, "train", "images", "000001_male_Asian_45", "mask9.jpg"), random));
            var options = DashboardFakes.Options(runs, data);
            var app = MaskLab.Dashboard.DashboardServer.Create(options, b => b.WebHost.UseTestServer());
            await app.StartAsync();
            try
            {
                using var client = app.GetTestClient();
                client.Timeout = TimeSpan.FromSeconds(20);
                var paths = new List<string> { "/api/runs", "/api/run?id=r0", "/api/run?id=r1", "/api/run?id=r2", "/api/compare?id=r0&id=r1&id=r2" };
                paths.AddRange(placed.Select(f => f.StartsWith(runs, StringComparison.Ordinal)
                    ? "/files/runs/" + Path.GetRelativePath(runs, f) : "/files/data0/" + Path.GetRelativePath(data, f)));
                foreach (var path in paths)
                {
                    tally.Mutations++;
                    try
                    {
                        var r = await client.GetAsync(path);
                        // Refused as a special file (403), or not found at all (404: a socket is no file to .NET).
                        if (path.StartsWith("/files/", StringComparison.Ordinal) && r.StatusCode is not (System.Net.HttpStatusCode.Forbidden or System.Net.HttpStatusCode.NotFound))
                            tally.Failures.Add($"{path}: {(int)r.StatusCode}, not refused");
                        // A run whose config.yaml is a special file is no run: 404 is its answer.
                        else if (path.StartsWith("/api/", StringComparison.Ordinal) && !r.IsSuccessStatusCode && r.StatusCode != System.Net.HttpStatusCode.NotFound)
                            tally.Failures.Add($"{path}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
                        else tally.Ok++;
                    }
                    catch (TaskCanceledException) { tally.Failures.Add($"{path}: no answer within 20 s"); }
                }
            }
            finally { await app.DisposeAsync(); }
        }
        Report(tally);
    }

    /// <summary>Replaces <paramref name="path"/> with a FIFO, a link to /dev/zero or /dev/null, or a Unix socket; returns it.</summary>
    static string MakeSpecial(string path, Random random)
    {
        if (File.Exists(path)) File.Delete(path);
        switch (random.Next(4))
        {
            case 0 or 1:
                using (var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!) p.WaitForExit();
                break;
            case 2:
                File.CreateSymbolicLink(path, random.Next(2) == 0 ? "/dev/zero" : "/dev/null");
                break;
            default:
                using (var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified))
                    socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
                break;
        }
        return path;
    }

    void FuzzDataFile(string relative, int count, bool csv)
    {
        var data = FaultData.CopyTo(Path.Combine(work, "data"));
        var file = Path.Combine(data, relative);
        var pristine = File.ReadAllBytes(file);
        var random = new Random(Seed + relative.Length);
        var tally = new Tally(relative);
        for (int i = 0; i < count * Scale; i++)
        {
            var (what, bytes) = csv && random.Next(3) > 0 ? MutateCsv(Encoding.UTF8.GetString(pristine), random) : MutateBinary(pristine, random);
            File.WriteAllBytes(file, bytes);
            try
            {
                Check(tally, $"{relative} {what}", data, null,
                    out_ => ["train", "--data", data, "--out", out_, "--set", "epochs=1", .. FaultData.TinySet]);
            }
            finally { File.WriteAllBytes(file, pristine); }
        }
        Report(tally);
    }

    /// <summary>
    /// Runs one mutated command and checks the contract; the folders given must come out unchanged. A broken contract
    /// is recorded in the tally (all of them are listed at the end) and the result returned for further checks.
    /// </summary>
    CliResult Check(Tally tally, string what, string inputs, string? moreInputs, Func<string, string[]> command)
    {
        try { return CheckOne(tally, what, inputs, moreInputs, command); }
        catch (Xunit.Sdk.XunitException e)
        {
            tally.Failures.Add(e.Message.ReplaceLineEndings(" "));
            var outDir = Path.Combine(work, "out-" + (tally.Mutations - 1));
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
            return new CliResult(-1, "", e.Message);
        }
    }

    CliResult CheckOne(Tally tally, string what, string inputs, string? moreInputs, Func<string, string[]> command)
    {
        var outDir = Path.Combine(work, "out-" + tally.Mutations++);
        var before = Tree.Snapshot(inputs);
        var beforeMore = moreInputs is null ? null : Tree.Snapshot(moreInputs);
        var args = command(outDir);
        CliResult r;
        try { r = CliHarness.Run(args); }
        catch (Exception e) { throw new Xunit.Sdk.XunitException($"{what}: the CLI threw {e.GetType().Name}: {e.Message}"); }
        var errorLines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string context = $"{what}: exit {r.ExitCode}; stderr: {r.Stderr}";
        Assert.False(r.Stderr.Contains("   at ") || r.Stdout.Contains("   at "), context);
        Assert.False(r.Stderr.Contains("internal error"), context);
        switch (r.ExitCode)
        {
            case 0: tally.Ok++; break;
            case 2: tally.Refused++; break;
            case 1 when r.Stderr.Contains("loss became"):
                tally.Diverged++;
                output.WriteLine($"diverged: {what}");
                break;
            default: Assert.Fail(context); break;
        }
        if (r.ExitCode != 0)
        {
            // One error line; a bad-photo refusal lists each photo on an indented line above it.
            Assert.True(errorLines.Count(l => l.StartsWith("masklab: error:", StringComparison.Ordinal)) == 1, context);
            Assert.True(errorLines.All(l => l.StartsWith("masklab: error:", StringComparison.Ordinal) || l.StartsWith("  bad image: ", StringComparison.Ordinal)), context);
        }
        if (r.ExitCode == 2 && args[0] == "train" && !args.Contains("--resume"))
            Assert.False(Directory.Exists(outDir), $"{context}: a refused run left {outDir}");
        Assert.Empty(Tree.TemporaryFiles(outDir));
        Assert.Empty(Tree.TemporaryFiles(inputs));
        var changed = Tree.Differences(before, Tree.Snapshot(inputs));
        if (moreInputs is not null) changed.AddRange(Tree.Differences(beforeMore!, Tree.Snapshot(moreInputs)));
        Assert.True(changed.Count == 0, $"{context}: {string.Join(", ", changed)}");
        if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        return r;
    }

    void Report(Tally tally)
    {
        output.WriteLine(tally.ToString());
        Assert.True(tally.Failures.Count == 0, $"{tally.Failures.Count} of {tally.Mutations} mutations broke the contract:\n{string.Join("\n", tally.Failures)}");
    }

    // ---- mutations ----

    static (string, byte[]) MutateBinary(byte[] bytes, Random random)
    {
        switch (random.Next(6))
        {
            case 0:
            {
                int at = random.Next(bytes.Length);
                return ($"cut to {at} of {bytes.Length} bytes", bytes[..at]);
            }
            case 1:
            case 2:
            {
                var copy = (byte[])bytes.Clone();
                int flips = 1 + random.Next(4);
                var where = new List<int>();
                for (int f = 0; f < flips; f++)
                {
                    // Half the flips land in the first 64 bytes, where headers and magic numbers are.
                    int at = random.Next(2) == 0 ? random.Next(Math.Min(64, copy.Length)) : random.Next(copy.Length);
                    copy[at] ^= (byte)(1 << random.Next(8));
                    where.Add(at);
                }
                return (copy.AsSpan().SequenceEqual(bytes) ? "unchanged (flips cancelled)" : $"bits flipped at {string.Join(",", where)}", copy);
            }
            case 3:
            {
                var copy = (byte[])bytes.Clone();
                int at = random.Next(copy.Length), len = Math.Min(copy.Length - at, 1 + random.Next(256));
                Array.Clear(copy, at, len);
                return (copy.AsSpan().SequenceEqual(bytes) ? "unchanged (zeros over zeros)" : $"{len} bytes zeroed at {at}", copy);
            }
            case 4:
            {
                var garbage = new byte[1 + random.Next(300)];
                random.NextBytes(garbage);
                return ($"{garbage.Length} random bytes appended", [.. bytes, .. garbage]);
            }
            default:
            {
                var garbage = new byte[random.Next(2000)];
                random.NextBytes(garbage);
                return ($"replaced by {garbage.Length} random bytes", garbage);
            }
        }
    }

    static (string, byte[]) MutateCsv(string text, Random random)
    {
        var lines = text.Split('\n').ToList();
        if (lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        string what;
        int row = 1 + random.Next(Math.Max(1, lines.Count - 1));
        switch (random.Next(8))
        {
            case 0:
            case 1:
            case 2:
            {
                var fields = lines[row].Split(',');
                int col = random.Next(fields.Length);
                var value = BadValues[random.Next(BadValues.Length)];
                fields[col] = value.Contains(',') && random.Next(2) == 0 ? $"\"{value}\"" : value;
                lines[row] = string.Join(',', fields);
                what = $"line {row + 1} field {col + 1} = '{Shorten(value)}'";
                break;
            }
            case 3:
            {
                int col = random.Next(lines[0].Split(',').Length);
                for (int i = 0; i < lines.Count; i++)
                {
                    var fields = lines[i].Split(',').ToList();
                    if (col < fields.Count) fields.RemoveAt(col);
                    lines[i] = string.Join(',', fields);
                }
                what = $"column {col + 1} removed";
                break;
            }
            case 4:
                lines.Insert(row, lines[row]);
                what = $"line {row + 1} repeated";
                break;
            case 5:
                lines[0] = lines[0].ToUpperInvariant().Replace(",", random.Next(2) == 0 ? ";" : ",,");
                what = "header changed";
                break;
            case 6:
                lines.RemoveRange(1, lines.Count - 1);
                what = "header only";
                break;
            default:
                lines.Insert(row, new string(',', random.Next(12)) + BadValues[random.Next(BadValues.Length)]);
                what = $"junk line inserted at {row + 1}";
                break;
        }
        var newline = random.Next(4) == 0 ? "\r\n" : "\n";
        var bom = random.Next(6) == 0 ? "\uFEFF" : "";
        return (what + (newline == "\r\n" ? ", CRLF" : "") + (bom.Length > 0 ? ", BOM" : ""), Encoding.UTF8.GetBytes(bom + string.Join(newline, lines) + newline));
    }

    static (string, byte[]) MutateYaml(string text, Random random)
    {
        var lines = text.ReplaceLineEndings("\n").Split('\n').ToList();
        string what;
        switch (random.Next(9))
        {
            case 0:
            case 1:
            case 2:
            case 3:
            {
                var key = FuzzedKeys[random.Next(FuzzedKeys.Length)];
                var value = BadYamlValues[random.Next(BadYamlValues.Length)];
                int at = lines.FindIndex(l => l.StartsWith(key + ":", StringComparison.Ordinal));
                var line = $"{key}: {value}";
                if (at >= 0) lines[at] = line; else lines.Add(line);
                what = $"{key}: {Shorten(value)}";
                break;
            }
            case 4:
            {
                var bytes = Encoding.UTF8.GetBytes(string.Join('\n', lines));
                var (how, mutated) = MutateBinary(bytes, random);
                return (how, mutated);
            }
            case 5:
                lines.Insert(random.Next(lines.Count), "  " + lines[random.Next(lines.Count)]);
                what = "a line indented";
                break;
            case 6:
                lines.Add(lines[random.Next(lines.Count)]);
                what = "a key repeated";
                break;
            case 7:
                lines.Add(random.Next(2) == 0 ? "colour: blue" : "model:\n  name: baseline");
                what = "unknown key or nested mapping";
                break;
            default:
                lines.Insert(random.Next(lines.Count), "\t- ]{");
                what = "syntax error";
                break;
        }
        return (what, Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"));
    }

    static string Shorten(string s) => s.Length > 24 ? s[..24] + $"...({s.Length})" : s;

    static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
    }
}
