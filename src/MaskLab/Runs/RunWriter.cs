namespace MaskLab.Runs;

/// <summary>
/// How every run directory, sweep folder and k-fold root is written: this process becomes the folder's one writer
/// (<see cref="RunLock"/>), what a writer killed mid-write left goes (<see cref="RunDirectory.RemoveStaleTemporaryFiles"/>),
/// and a failure to write (a full disk, a read-only folder) is one line naming the folder.
/// </summary>
internal static class RunWriter
{
    /// <summary>Takes the folder's lock (waiting up to <paramref name="wait"/> where given) and clears a dead writer's leftovers.</summary>
    /// <exception cref="RunLockedException">Another live process holds it.</exception>
    public static RunLock Open(string folder, TimeSpan? wait = null) =>
        Cleared(wait is { } w ? RunLock.Acquire(folder, w) : RunLock.Acquire(folder));

    /// <summary>As <see cref="Open"/> without waiting: null, with the holder, when another process holds the folder.</summary>
    public static RunLock? TryOpen(string folder, out RunLockHolder? holder) =>
        RunLock.TryAcquire(folder, out holder) is { } held ? Cleared(held) : null;

    /// <summary>Runs <paramref name="write"/>, turning an I/O failure into "cannot write <paramref name="what"/> 'folder': why".</summary>
    public static T Guard<T>(string what, string folder, Func<T> write)
    {
        try
        {
            return write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure(what, folder, e);
        }
    }

    /// <summary>The one-line error of a failed write to <paramref name="folder"/>.</summary>
    public static MaskLabInputException Failure(string what, string folder, Exception e) => new($"cannot write {what} '{folder}': {e.Message}");

    static RunLock Cleared(RunLock held)
    {
        try
        {
            RunDirectory.RemoveStaleTemporaryFiles(held.Directory);
            return held;
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }
}
