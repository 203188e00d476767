using System.Runtime.InteropServices;

namespace MaskLab.Cli;

/// <summary>
/// While held, Ctrl+C (SIGINT) and SIGTERM cancel <see cref="Token"/> instead of killing the process, so that a run
/// stops at a point where its files are whole and can be resumed. Schedulers send SIGTERM before they kill: Slurm at a
/// job's time limit, <c>docker stop</c>, systemd; such a run ends as after Ctrl+C and resumes cleanly.
/// </summary>
public sealed class CtrlC : IDisposable
{
    readonly CancellationTokenSource _cts;
    readonly ConsoleCancelEventHandler _onCancel;
    readonly PosixSignalRegistration? _onTerm;

    public CtrlC(CancellationToken outer)
    {
        _cts = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _onCancel = (_, e) => { e.Cancel = true; Stop(2); };
        Console.CancelKeyPress += _onCancel;
        if (!OperatingSystem.IsWindows())
            _onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; Stop(15); });
    }

    public CancellationToken Token => _cts.Token;

    /// <summary>
    /// The one Ctrl+C path of every verb and Slurm task: runs <paramref name="work"/> with Ctrl+C and SIGTERM turned into
    /// its token. A run so stopped ends with <paramref name="interrupted"/>'s line (what is kept, how to go on) and exit
    /// 130 or 143; every other error goes on to Program.cs, the one error path.
    /// </summary>
    public static int Run(CancellationToken outer, Func<CancellationToken, int> work, Func<string> interrupted)
    {
        using var ctrlC = new CtrlC(outer);
        try
        {
            return work(ctrlC.Token);
        }
        catch (OperationCanceledException)
        {
            return Cli.Fail(interrupted(), ctrlC.ExitCode);
        }
    }

    /// <summary>The signal that stopped the run (2 for Ctrl+C, 15 for SIGTERM), 0 while none has.</summary>
    public int Signal { get; private set; }

    /// <summary>The exit code of a run stopped by <see cref="Signal"/>: 128 + the signal, as a shell reports it (130 for Ctrl+C).</summary>
    public int ExitCode => 128 + (Signal == 0 ? 2 : Signal);

    void Stop(int signal)
    {
        if (Signal == 0) Signal = signal;
        try { _cts.Cancel(); }
        catch (ObjectDisposedException) { }
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= _onCancel;
        _onTerm?.Dispose();
        _cts.Dispose();
    }
}
