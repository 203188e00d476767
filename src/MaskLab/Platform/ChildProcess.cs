using System.ComponentModel;
using System.Diagnostics;

namespace MaskLab.Platform;

/// <summary>Runs a helper program (python3, nvidia-smi) for what it prints.</summary>
internal static class ChildProcess
{
    /// <summary>The program's stdout, or null when it is not installed, fails or outlasts <paramref name="timeoutMs"/>.</summary>
    public static string? Output(string file, IEnumerable<string> args, int timeoutMs)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi);
            if (p is null) return null;
            var output = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeoutMs))
            {
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                return null;
            }
            return p.ExitCode == 0 ? output.Result : null;
        }
        catch (Win32Exception)
        {
            return null; // not installed
        }
    }
}
