using System.Diagnostics;
using System.Globalization;

namespace MaskLab.Core;

/// <summary>
/// Named places where a crash would do the most harm (half-way through a checkpoint, between an epoch's files), so
/// that the fault tests can kill a run exactly there: with <c>MASKLAB_CRASH_AT=name:n</c> in its environment the process
/// kills itself (SIGKILL: no finally block, no flush) the n-th time it passes <c>name</c>. Without the variable a pass
/// costs one comparison.
/// </summary>
internal static class CrashPoint
{
    public const string Variable = "MASKLAB_CRASH_AT";

    static readonly (string Name, int Count)? Target = Parse(Environment.GetEnvironmentVariable(Variable));
    static int passes;

    static (string, int)? Parse(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        var cut = text.LastIndexOf(':');
        return cut > 0 && int.TryParse(text[(cut + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? (text[..cut], n) : (text, 1);
    }

    public static void Pass(string name)
    {
        if (Target is not { } t || !string.Equals(t.Name, name, StringComparison.Ordinal)) return;
        if (Interlocked.Increment(ref passes) == t.Count)
        {
            Console.Out.Flush();
            Process.GetCurrentProcess().Kill();
        }
    }
}
