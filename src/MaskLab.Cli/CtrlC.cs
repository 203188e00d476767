namespace MaskLab.Cli;

/// <summary>
/// While held, Ctrl+C cancels <see cref="Token"/> instead of killing the process, so that a run stops at a point
/// where its files are whole and can be resumed.
/// </summary>
public sealed class CtrlC : IDisposable
{
    readonly CancellationTokenSource _cts;
    readonly ConsoleCancelEventHandler _onCancel;

    public CtrlC(CancellationToken outer)
    {
        _cts = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _onCancel = (_, e) => { e.Cancel = true; _cts.Cancel(); };
        Console.CancelKeyPress += _onCancel;
    }

    public CancellationToken Token => _cts.Token;

    public void Dispose()
    {
        Console.CancelKeyPress -= _onCancel;
        _cts.Dispose();
    }
}
