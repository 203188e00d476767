using System.Text;
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
                ? ["predict", "--run", run, "--data", FaultData.Root, "--out", Path.Combine(out_, "submission.csv")]
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
