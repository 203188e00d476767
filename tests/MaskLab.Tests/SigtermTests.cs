using System.Diagnostics;

namespace MaskLab.Tests;

/// <summary>
/// Issue 21, item 14: SIGTERM, which schedulers send before they kill (a Slurm time limit, <c>docker stop</c>), stops a
/// run at its next safe point as Ctrl+C does, with the same message, and the run resumes. A child process, since the
/// signal must reach a process of its own.
/// </summary>
[Collection(CliConsoleCollection.Name)]
public sealed class SigtermTests : IDisposable
{
    readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public async Task Item14_SigtermStopsARunAsCtrlCDoesAndItResumes()
    {
        if (OperatingSystem.IsWindows()) return;
        var run = temp.Combine("run");
        // More epochs than it could train before the signal: a tiny epoch takes milliseconds.
        using (var p = ChildCli.Start(["train", "--data", FaultData.Root, "--out", run, "--set", "epochs=1000000", .. FaultData.TinySet]))
        {
            var stderr = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEndAsync();
            var clock = Stopwatch.StartNew();
            var metrics = Path.Combine(run, "metrics.jsonl");
            while (!p.HasExited && !File.Exists(metrics))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), "the run never finished an epoch");
                Thread.Sleep(20);
            }
            using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", p.Id.ToString()]) { UseShellExecute = false })!) kill.WaitForExit();
            if (!p.WaitForExit(60_000))
            {
                p.Kill(entireProcessTree: true);
                Assert.Fail("SIGTERM did not stop the run within a minute");
            }
            var errors = await stderr;
            await stdout;
            Assert.True(p.ExitCode == 143, $"exit {p.ExitCode}: {errors}");
            var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Equal($"masklab: error: interrupted; the last finished epoch is kept: continue with ./masklab train --resume {run}", line);
        }
        Assert.Empty(Tree.TemporaryFiles(run));
        Assert.False(File.Exists(Path.Combine(run, RunDirectory.LockHolderFileName)), "the lock's holder record outlived its holder");
        var done = Checkpoint.ReadState(Path.Combine(run, "checkpoints", "last.ckpt")).EpochsDone;
        Assert.Equal(done, File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Length);
        var config = Path.Combine(run, "config.yaml");
        File.WriteAllText(config, File.ReadAllText(config).Replace("epochs: 1000000", $"epochs: {done + 1}"));
        var resumed = CliHarness.Run("train", "--resume", run);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Equal(done + 1, File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Length);
    }
}
