namespace MaskLab.Core;

/// <summary>An IProgress that reports on the caller's thread at once (Progress&lt;T&gt; posts later, out of order).</summary>
public sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
