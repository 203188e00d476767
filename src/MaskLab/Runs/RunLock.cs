using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MaskLab.Runs;

/// <summary>Who holds a run directory's lock, as its holder recorded it.</summary>
public sealed record RunLockHolder(int Pid, string Host, DateTimeOffset? Since, string? Command)
{
    public override string ToString() =>
        $"pid {Pid} on host {Host}{(Since is { } s ? $" since {s.ToLocalTime():yyyy-MM-dd HH:mm:ss}" : "")}";
}

/// <summary>A second writer tried to take a run directory another live process holds.</summary>
public sealed class RunLockedException(string directory, RunLockHolder? holder)
    : MaskLabInputException($"'{directory}' is being written by {(holder?.ToString() ?? "another process (its pid and host are not recorded yet)")}; " +
                            "one process writes it at a time: wait for that one to end, or stop it and continue")
{
    public string Directory { get; } = directory;
    public RunLockHolder? Holder { get; } = holder;
}

/// <summary>
/// One writer per run directory (a run, a k-fold root, a sweep folder). The lock is the kernel's: an exclusive lock
/// on <see cref="RunDirectory.LockFileName"/> taken by opening it with <see cref="FileShare.None"/> (flock on Linux),
/// so it is held exactly as long as the process lives and a killed holder's lock is free at once, with no stale lock
/// to clean by hand. Beside it, <see cref="RunDirectory.LockHolderFileName"/> records the holder's pid and host for
/// the refusal message.
/// </summary>
/// <remarks>
/// <para>The lock file stays after release: deleting it would let a process that opened the old file before the
/// delete lock it while another locks a new file of the same name. The exception is a directory this lock created
/// that still holds nothing else (a run refused for bad input): it is removed whole, so no stub is left.</para>
/// <para>Within one process a directory is locked once: a second acquisition is refused like another process's.</para>
/// </remarks>
public sealed class RunLock : IDisposable
{
    readonly FileStream stream;
    readonly bool createdDirectory;
    bool disposed;

    RunLock(string directory, FileStream stream, bool createdDirectory)
    {
        Directory = directory;
        this.stream = stream;
        this.createdDirectory = createdDirectory;
    }

    /// <summary>The locked directory (absolute).</summary>
    public string Directory { get; }

    /// <summary>Takes the lock of <paramref name="directory"/>, creating the directory if needed.</summary>
    /// <exception cref="RunLockedException">Another live process (or this one) holds it; the message names pid and host.</exception>
    /// <exception cref="MaskLabInputException">The directory cannot be created or written.</exception>
    public static RunLock Acquire(string directory) =>
        TryAcquire(directory, out var holder) ?? throw new RunLockedException(Path.GetFullPath(directory), holder);

    /// <summary>
    /// As <see cref="Acquire(string)"/>, but waits up to <paramref name="wait"/> for a holder to let go (for short
    /// writes that several processes may want at once, such as gathering a k-fold root).
    /// </summary>
    public static RunLock Acquire(string directory, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            if (TryAcquire(directory, out var holder) is { } taken) return taken;
            if (DateTime.UtcNow >= deadline) throw new RunLockedException(Path.GetFullPath(directory), holder);
            Thread.Sleep(200);
        }
    }

    /// <summary>Takes the lock, or returns null with the holder (null when it has not recorded itself yet).</summary>
    public static RunLock? TryAcquire(string directory, out RunLockHolder? holder)
    {
        var full = Path.GetFullPath(directory);
        holder = null;
        bool created = !System.IO.Directory.Exists(full);
        try { System.IO.Directory.CreateDirectory(full); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MaskLabInputException($"cannot create '{full}': {e.Message}");
        }

        var lockFile = Path.Combine(full, RunDirectory.LockFileName);
        for (int attempt = 0; ; attempt++)
        {
            FileStream stream;
            try
            {
                stream = new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (IsHeldElsewhere(e))
            {
                holder = ReadHolder(full);
                return null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (created) TryRemoveEmpty(full);
                throw new MaskLabInputException($"cannot write '{full}': {e.Message}");
            }
            // A holder that released a directory it created removes the file; if that happened between our open and
            // our lock, we hold a file no longer in the folder: open the folder's file again.
            if (!File.Exists(lockFile) && attempt < 3)
            {
                stream.Dispose();
                continue;
            }
            var taken = new RunLock(full, stream, created);
            try
            {
                taken.WriteHolder();
            }
            catch
            {
                taken.Dispose();
                throw;
            }
            return taken;
        }
    }

    /// <summary>Who holds <paramref name="directory"/>'s lock now, or null when nobody does.</summary>
    public static RunLockHolder? HolderOf(string directory)
    {
        var full = Path.GetFullPath(directory);
        var lockFile = Path.Combine(full, RunDirectory.LockFileName);
        if (!File.Exists(lockFile)) return null;
        try
        {
            using var probe = new FileStream(lockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return null;
        }
        catch (IOException e) when (IsHeldElsewhere(e))
        {
            return ReadHolder(full) ?? new RunLockHolder(0, "unknown", null, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>flock's EWOULDBLOCK on Linux (11) and the BSDs (35); a sharing or lock violation on Windows.</summary>
    static bool IsHeldElsewhere(IOException e) =>
        e.GetType() == typeof(IOException) && (e.HResult is 11 or 35 || (e.HResult & 0xFFFF) is 32 or 33);

    void WriteHolder()
    {
        var record = new JsonObject
        {
            ["pid"] = Environment.ProcessId,
            ["host"] = Environment.MachineName,
            ["since"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["command"] = string.Join(' ', Environment.GetCommandLineArgs()),
        };
        AtomicFile.WriteText(Path.Combine(Directory, RunDirectory.LockHolderFileName), w => w.Write(record.ToJsonString()));
    }

    /// <summary>The holder <see cref="RunDirectory.LockHolderFileName"/> records (it may have died since), or null; takes no lock.</summary>
    public static RunLockHolder? ReadHolder(string directory)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(directory, RunDirectory.LockHolderFileName));
            if (JsonNode.Parse(text) is not JsonObject o) return null;
            var since = o["since"]?.GetValue<string>() is { } s
                && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t) ? t : (DateTimeOffset?)null;
            return new RunLockHolder(o["pid"]?.GetValue<int>() ?? 0, o["host"]?.GetValue<string>() ?? "unknown", since, o["command"]?.GetValue<string>());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Lets go of the lock; a directory this lock created that holds nothing but the lock is removed.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        TryDelete(Path.Combine(Directory, RunDirectory.LockHolderFileName));
        if (createdDirectory && OnlyLockLeft(Directory))
        {
            TryDelete(Path.Combine(Directory, RunDirectory.LockFileName));
            stream.Dispose();
            TryRemoveEmpty(Directory);
            return;
        }
        stream.Dispose();
    }

    static bool OnlyLockLeft(string dir)
    {
        try
        {
            return System.IO.Directory.EnumerateFileSystemEntries(dir)
                .All(e => Path.GetFileName(e) is RunDirectory.LockFileName or RunDirectory.LockHolderFileName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    static void TryRemoveEmpty(string dir)
    {
        try { System.IO.Directory.Delete(dir, recursive: false); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    static void TryDelete(string file)
    {
        try { File.Delete(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
