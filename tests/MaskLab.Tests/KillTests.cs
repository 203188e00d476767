using System.Text;
using System.Text.Json.Nodes;
using MaskLab.Runs;
using Xunit.Abstractions;

namespace MaskLab.Tests;

/// <summary>
/// A tiny training, and a tiny sweep, killed with SIGKILL several times in a row at seeded points (mid-epoch, half-way
/// through a checkpoint, between an epoch's files and its checkpoint, between the runs of a sweep, and at a seeded
/// moment from outside) and resumed each time, end with the same outputs, byte for byte, as an uninterrupted run
/// (timings aside). The CLI runs as a child process, so each kill is a real one: no finally block, no flush; the
/// next process takes over the dead one's lock and removes its temporary files.
/// </summary>
[Collection(CliConsoleCollection.Name)]
public sealed class KillTests(ITestOutputHelper output) : IDisposable
{
    const int Seed = 14;

    readonly string work = Directory.CreateTempSubdirectory("masklab-kill-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(work, recursive: true); } catch (IOException) { }
    }

    static Dictionary<string, string> CrashAt(string point, int n) => new() { [MaskLab.Core.CrashPoint.Variable] = $"{point}:{n}" };

    [Fact]
    public void KilledTrainingResumesToTheSameOutputs()
    {
        string[] Train(string dir) => ["train", "--data", FaultData.Root, "--out", dir, "--set", "epochs=3", .. FaultData.TinySet];

        var reference = Path.Combine(work, "reference");
        var whole = ChildCli.Run(Train(reference));
        Assert.True(whole.ExitCode == 0, whole.Stderr);

        var run = Path.Combine(work, "killed");
        var random = new Random(Seed);
        int kills = 0;
        // Every kind of point, in a seeded order, each at a seeded pass within the first epoch the process trains (3
        // batches an epoch; a checkpoint write or two), so that each kill lands before the run can finish.
        var plan = new List<(string Point, int Pass)>
        {
            ("batch", 1 + random.Next(3)), ("checkpoint", 1 + random.Next(2)), ("epoch-files", 1),
            ("timed", 0), ("checkpoint", 1 + random.Next(2)), ("batch", 1 + random.Next(3)),
        }.OrderBy(_ => random.Next()).ToList().TimedLast();
        foreach (var (point, pass) in plan)
        {
            var args = File.Exists(Path.Combine(run, "config.yaml")) ? new[] { "train", "--resume", run } : Train(run);
            ChildResult r = point == "timed" ? KillFromOutside(args, run, random) : ChildCli.Run(args, CrashAt(point, pass));
            output.WriteLine($"{point}:{pass} -> exit {r.ExitCode} after {r.Elapsed.TotalSeconds:F1} s");
            // A timed kill may come too late for a run near its end; every other one must land.
            Assert.True(r.Killed || (point == "timed" && r.ExitCode == 0), $"{point}:{pass}: exit {r.ExitCode}: {r.Stderr}");
            if (!r.Killed) break;
            kills++;
            if (point == "checkpoint")
                Assert.True(Tree.TemporaryFiles(run).Count > 0, "a kill half-way through a checkpoint leaves its temporary file (removed by the next process)");
        }
        var last = ChildCli.Run(["train", "--resume", run]);
        Assert.True(last.ExitCode == 0, last.Stderr);
        output.WriteLine($"training: {kills} kills, then resumed to the end");
        Assert.True(kills >= plan.Count - 1, $"only {kills} kills happened");

        AssertSameRun(reference, run);
    }

    [Fact]
    public void KilledSweepResumesToTheSameOutputs()
    {
        var file = Path.Combine(work, "sweep.yaml");
        File.WriteAllText(file, $"""
            base:
              model: baseline
              image_size: 16x16
              batch_size: 16
              warmup_epochs: 0
              threads: 1
              epochs: 2
            seeds: [1]
            grid:
              loss: [cross_entropy, focal]
            """);
        string[] Sweep(string dir) => ["sweep", "--config", file, "--out", dir, "--data", FaultData.Root];

        var reference = Path.Combine(work, "sweep-reference");
        var whole = ChildCli.Run(Sweep(reference));
        Assert.True(whole.ExitCode == 0, whole.Stderr);

        var sweep = Path.Combine(work, "sweep-killed");
        var random = new Random(Seed + 1);
        int kills = 0;
        var plan = new List<(string Point, int Pass)>
        {
            ("batch", 1 + random.Next(4)), ("checkpoint", 1 + random.Next(3)), ("sweep-run", 1), ("timed", 0), ("epoch-files", 1),
        }.OrderBy(_ => random.Next()).ToList().TimedLast();
        foreach (var (point, pass) in plan)
        {
            var r = point == "timed" ? KillFromOutside(Sweep(sweep), sweep, random) : ChildCli.Run(Sweep(sweep), CrashAt(point, pass));
            output.WriteLine($"{point}:{pass} -> exit {r.ExitCode} after {r.Elapsed.TotalSeconds:F1} s");
            Assert.True(r.Killed || (point == "timed" && r.ExitCode == 0), $"{point}:{pass}: exit {r.ExitCode}: {r.Stderr}");
            if (!r.Killed) break;
            kills++;
        }
        var last = ChildCli.Run(Sweep(sweep));
        Assert.True(last.ExitCode == 0, last.Stderr);
        output.WriteLine($"sweep: {kills} kills, then resumed to the end");
        Assert.True(kills >= plan.Count - 1, $"only {kills} kills happened");

        foreach (var name in new[] { "sweep.yaml", "summary.md" })
            Assert.Equal(File.ReadAllText(Path.Combine(reference, name)), File.ReadAllText(Path.Combine(sweep, name)));
        Assert.Equal(WithoutColumns(Path.Combine(reference, "results.csv")), WithoutColumns(Path.Combine(sweep, "results.csv")));
        Assert.Empty(Tree.TemporaryFiles(sweep));
        var runs = Directory.GetDirectories(reference).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(2, runs.Length);
        Assert.Equal(runs, Directory.GetDirectories(sweep).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray());
        foreach (var name in runs) AssertSameRun(Path.Combine(reference, name!), Path.Combine(sweep, name!));
    }

    /// <summary>
    /// Starts the command, waits until it holds its folder's lock, checks that a second writer is refused naming the
    /// holder's pid and host, then kills it (SIGKILL) at a seeded moment within the next second and a half.
    /// </summary>
    ChildResult KillFromOutside(string[] args, string dir, Random random)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var p = ChildCli.Start(args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        var holderFile = Path.Combine(dir, RunDirectory.LockHolderFileName);
        while (!p.HasExited && !(File.Exists(holderFile) && File.ReadAllText(holderFile).Contains($"\"pid\":{p.Id},", StringComparison.Ordinal)))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), "the child never took the lock");
            Thread.Sleep(20);
        }
        if (!p.HasExited)
        {
            var holder = RunLock.HolderOf(dir);
            if (!p.HasExited)
            {
                Assert.NotNull(holder);
                Assert.Equal(p.Id, holder.Pid);
                Assert.Equal(Environment.MachineName, holder.Host);
                var second = args[0] == "train" ? CliHarness.Run("train", "--resume", dir) : CliHarness.Run(args);
                if (!p.HasExited)
                {
                    Assert.Equal(2, second.ExitCode);
                    Assert.Contains($"pid {p.Id} on host {Environment.MachineName}", second.Stderr);
                    Assert.Single(second.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
                }
            }
            Thread.Sleep(random.Next(1500));
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
        p.WaitForExit();
        return new ChildResult(p.ExitCode, stdout.Result, stderr.Result, clock.Elapsed);
    }

    /// <summary>The same files with the same content, except for what measures time.</summary>
    static void AssertSameRun(string reference, string run)
    {
        static IEnumerable<string> Files(string dir) => Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir, f))
            .Where(f => !f.StartsWith("tensorboard", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        Assert.Equal(Files(reference).ToArray(), Files(run).ToArray());
        Assert.Empty(Tree.TemporaryFiles(run));
        Assert.False(File.Exists(Path.Combine(run, RunDirectory.LockHolderFileName)), "the lock's holder record outlived its holder");

        foreach (var name in new[] { "config.yaml", "split.json", "confusion.csv", "per_class.csv", "val_predictions.csv", "submission.csv", RunDirectory.LockFileName })
            if (File.Exists(Path.Combine(reference, name)))
                Assert.True(File.ReadAllBytes(Path.Combine(reference, name)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(run, name))), $"{name} differs");

        string[] timings = ["train_images_per_second", "seconds", "train_seconds", "peak_memory_mb", "wall_seconds", "start_time", "end_time", "command_line", "submission"];
        var refLines = File.ReadAllLines(Path.Combine(reference, "metrics.jsonl"));
        var runLines = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal(refLines.Select(l => Without(l, timings)), runLines.Select(l => Without(l, timings)));
        Assert.Equal(Without(File.ReadAllText(Path.Combine(reference, "summary.json")), timings),
            Without(File.ReadAllText(Path.Combine(run, "summary.json")), timings));
        var refMeta = JsonNode.Parse(File.ReadAllText(Path.Combine(reference, "metadata.json")))!;
        var runMeta = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "metadata.json")))!;
        foreach (var key in new[] { "config", "data" }) Assert.Equal(refMeta[key]!.ToJsonString(), runMeta[key]!.ToJsonString());
        Assert.NotNull(runMeta["end_time"]?.GetValue<string>());

        foreach (var ckpt in new[] { "best.ckpt", "last.ckpt" })
        {
            var (refState, refRest) = SplitCheckpoint(Path.Combine(reference, "checkpoints", ckpt));
            var (runState, runRest) = SplitCheckpoint(Path.Combine(run, "checkpoints", ckpt));
            Assert.Equal(refState, runState);
            Assert.True(refRest.AsSpan().SequenceEqual(runRest), $"{ckpt}: weights or optimiser state differ");
        }
    }

    /// <summary>A checkpoint's training state without its clock, and every byte after it (weights, optimiser state).</summary>
    static (string State, byte[] Tail) SplitCheckpoint(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
        Assert.Equal("MASKLAB-CKPT-2", reader.ReadString());
        reader.ReadInt64();
        reader.ReadBytes(32);
        var state = JsonNode.Parse(reader.ReadString())!.AsObject();
        state.Remove("TrainSeconds");
        return (state.ToJsonString(), reader.ReadBytes((int)(reader.BaseStream.Length - reader.BaseStream.Position)));
    }

    static string Without(string json, string[] keys)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        foreach (var k in keys) node.Remove(k);
        return node.ToJsonString();
    }

    /// <summary>results.csv without its timing and path columns.</summary>
    static string WithoutColumns(string csv)
    {
        var lines = File.ReadAllLines(csv);
        var header = lines[0].Split(',');
        var keep = Enumerable.Range(0, header.Length)
            .Where(i => !header[i].Contains("seconds") && !header[i].Contains("per_second") && !header[i].Contains("memory") && header[i] != "run_dir")
            .ToArray();
        return string.Join("\n", lines.Select(l => string.Join(",", keep.Select(i => l.Split(',')[i]))));
    }
}

static class KillPlan
{
    /// <summary>
    /// The plan with the kill from outside moved to the end: it may come after a fast child has finished (the only kill
    /// allowed to miss), and every seeded kill before it must still find a run with work left.
    /// </summary>
    public static List<(string Point, int Pass)> TimedLast(this List<(string Point, int Pass)> plan) =>
        [.. plan.Where(p => p.Point != "timed"), .. plan.Where(p => p.Point == "timed")];
}
