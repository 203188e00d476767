using System.Diagnostics;
using MaskLab.Runs;

namespace MaskLab.Tests;

/// <summary>One writer per run directory: refusal naming the holder, release, takeover from a dead holder, no stub left.</summary>
public sealed class RunLockTests : IDisposable
{
    readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void ASecondWriterIsRefusedNamingPidAndHostUntilTheFirstLetsGo()
    {
        var dir = temp.Combine("run");
        var first = RunLock.Acquire(dir);
        var e = Assert.Throws<RunLockedException>(() => RunLock.Acquire(dir));
        Assert.Contains($"pid {Environment.ProcessId} on host {Environment.MachineName}", e.Message);
        Assert.Contains(Path.GetFullPath(dir), e.Message);
        Assert.Equal(Environment.ProcessId, RunLock.HolderOf(dir)?.Pid);
        Assert.Null(RunLock.TryAcquire(dir, out var holder));
        Assert.Equal(Environment.MachineName, holder?.Host);

        File.WriteAllText(Path.Combine(dir, "config.yaml"), "model: baseline\n");
        first.Dispose();
        Assert.Null(RunLock.HolderOf(dir));
        Assert.False(File.Exists(Path.Combine(dir, RunDirectory.LockHolderFileName)));
        using var again = RunLock.Acquire(dir);
        Assert.Equal(Environment.ProcessId, RunLock.HolderOf(dir)?.Pid);
    }

    [Fact]
    public void AStaleRecordOfADeadHolderDoesNotBlock()
    {
        // A holder killed with SIGKILL leaves its record, but the kernel freed its lock when it died.
        var dir = Directory.CreateDirectory(temp.Combine("run")).FullName;
        File.WriteAllText(Path.Combine(dir, RunDirectory.LockFileName), "");
        File.WriteAllText(Path.Combine(dir, RunDirectory.LockHolderFileName), """{"pid":999999,"host":"elsewhere","since":"2026-01-01T00:00:00Z"}""");
        Assert.Null(RunLock.HolderOf(dir));
        using var taken = RunLock.Acquire(dir);
        Assert.Contains($"\"pid\":{Environment.ProcessId},", File.ReadAllText(Path.Combine(dir, RunDirectory.LockHolderFileName)));
    }

    [Fact]
    public void ALockHeldByAnotherProcessIsRefusedAndTakenOverWhenItDies()
    {
        // flock(1) takes the same kernel lock (flock(2)) as MaskLab, from a process of its own that we can kill.
        if (!File.Exists("/usr/bin/flock")) return;
        var dir = Directory.CreateDirectory(temp.Combine("run")).FullName;
        var lockFile = Path.Combine(dir, RunDirectory.LockFileName);
        File.WriteAllText(lockFile, "");
        using var holder = Process.Start(new ProcessStartInfo("/usr/bin/flock", ["--exclusive", lockFile, "sleep", "60"]) { UseShellExecute = false })!;
        var clock = Stopwatch.StartNew();
        while (RunLock.HolderOf(dir) is null)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "flock never took the lock");
            Thread.Sleep(20);
        }
        var refused = Assert.Throws<RunLockedException>(() => RunLock.Acquire(dir));
        Assert.Contains("not recorded", refused.Message); // flock(1) writes no holder record
        holder.Kill(entireProcessTree: true);
        holder.WaitForExit();
        using var taken = RunLock.Acquire(dir, TimeSpan.FromSeconds(10));
        Assert.Equal(Environment.ProcessId, RunLock.HolderOf(dir)?.Pid);
    }

    [Fact]
    public async Task AWaitingWriterGetsTheLockOnceReleased()
    {
        var dir = temp.Combine("root");
        var first = RunLock.Acquire(dir);
        var waiting = Task.Run(() => RunLock.Acquire(dir, TimeSpan.FromSeconds(20)));
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted);
        File.WriteAllText(Path.Combine(dir, "oof.csv"), "");
        first.Dispose();
        using var second = await waiting;
        Assert.Equal(Path.GetFullPath(dir), second.Directory);
        Assert.Throws<RunLockedException>(() => RunLock.Acquire(dir, TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public void AFolderCreatedForTheLockAloneIsRemovedOnRelease()
    {
        var created = temp.Combine("fresh");
        RunLock.Acquire(created).Dispose();
        Assert.False(Directory.Exists(created));

        var existing = Directory.CreateDirectory(temp.Combine("mine")).FullName;
        RunLock.Acquire(existing).Dispose();
        Assert.True(Directory.Exists(existing));

        var written = temp.Combine("written");
        using (RunLock.Acquire(written)) File.WriteAllText(Path.Combine(written, "config.yaml"), "");
        Assert.True(File.Exists(Path.Combine(written, "config.yaml")));
    }

    [Fact]
    public void TemporaryFilesOfDeadWritersAreRemovedAndLiveOnesKept()
    {
        var dir = Directory.CreateDirectory(temp.Combine("run", "checkpoints")).Parent!.FullName;
        var dead = Path.Combine(dir, $".summary.json.999999.{Guid.NewGuid():N}.tmp");
        var live = Path.Combine(dir, $".summary.json.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        var deadCkpt = Path.Combine(dir, "checkpoints", $".last.ckpt.999999.{Guid.NewGuid():N}.tmp");
        var oldFormat = Path.Combine(dir, "checkpoints", "last.ckpt.tmp");
        var user = Path.Combine(dir, "notes.tmp");
        foreach (var f in new[] { dead, live, deadCkpt, oldFormat, user }) File.WriteAllText(f, "x");
        RunDirectory.RemoveStaleTemporaryFiles(dir);
        Assert.False(File.Exists(dead));
        Assert.False(File.Exists(deadCkpt));
        Assert.False(File.Exists(oldFormat));
        Assert.True(File.Exists(live));
        Assert.True(File.Exists(user));
    }
}
