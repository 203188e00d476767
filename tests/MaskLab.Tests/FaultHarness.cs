using System.Diagnostics;
using System.Security.Cryptography;
using MaskLab.Platform;
using MaskLab.Synthetic;

namespace MaskLab.Tests;

/// <summary>
/// The smallest data set the fault tests train on (10 people, 2 eval people, 24x32 photos, generated once), and the
/// settings that make a training of it take about a second: baseline model at 16x16, one thread.
/// </summary>
public static class FaultData
{
    public static readonly SynthOptions Options = new(People: 10, EvalPeople: 2, Width: 24, Height: 32, Seed: 5);

    static readonly Lazy<string> Folder = new(() =>
    {
        NativeSetup.Initialize();
        var dir = Path.Combine(Path.GetTempPath(), $"masklab-tests-faults-{Options.People}-{Options.EvalPeople}-{Options.Width}x{Options.Height}-{Options.Seed}");
        SyntheticGenerator.Generate(dir, Options);
        return dir;
    });

    /// <summary>The generated set (train/ and eval/ with answers.csv); shared, never to be changed.</summary>
    public static string Root => Folder.Value;

    /// <summary>
    /// Config keys of a training that takes about a second on the set. The age read-out is pinned: which epochs improve
    /// (and so write best.ckpt beside last.ckpt) decides where the kill tests' seeded checkpoint kills land.
    /// </summary>
    public static readonly string[] TinyKeys =
        ["model=baseline", "image_size=16x16", "batch_size=16", "warmup_epochs=0", "threads=1", "seed=3", "age_over_threshold=0.5"];

    /// <summary><see cref="TinyKeys"/> as --set arguments.</summary>
    public static string[] TinySet => TinyKeys.SelectMany(k => new[] { "--set", k }).ToArray();

    /// <summary>A copy of the set a test may change.</summary>
    public static string CopyTo(string destination)
    {
        foreach (var file in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(Root, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return destination;
    }
}

/// <summary>What the fault tests look for in folders: every file's hash, and temporary files left behind.</summary>
public static class Tree
{
    /// <summary>A copy of every file under <paramref name="from"/> into <paramref name="to"/> (a run a test may change).</summary>
    public static string Copy(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return to;
    }

    /// <summary>
    /// Relative path to SHA-256 of every file under <paramref name="dir"/> (none when it does not exist). A symbolic
    /// link is recorded by its target and never followed (a layout may hold loops), and a FIFO or device by its type
    /// (reading one would block or never end).
    /// </summary>
    public static Dictionary<string, string> Snapshot(string dir)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, info) in Entries(dir))
        {
            if (info.LinkTarget is { } target) result[name] = "link -> " + target;
            else if (MaskLab.Core.InputFile.FileType(info.FullName) is { } type && type != "regular file") result[name] = type;
            else result[name] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(info.FullName)));
        }
        return result;
    }

    /// <summary>Every file, link and special file under <paramref name="dir"/> by relative path; links to folders are not entered.</summary>
    static IEnumerable<(string Name, FileSystemInfo Info)> Entries(string dir)
    {
        if (!Directory.Exists(dir)) yield break;
        var pending = new Stack<DirectoryInfo>([new DirectoryInfo(dir)]);
        while (pending.Count > 0)
            foreach (var info in pending.Pop().EnumerateFileSystemInfos())
            {
                if (info is DirectoryInfo sub && info.LinkTarget is null) pending.Push(sub);
                else yield return (Path.GetRelativePath(dir, info.FullName), info);
            }
    }

    /// <summary>The differences between two snapshots, one line each (empty when equal).</summary>
    public static List<string> Differences(Dictionary<string, string> before, Dictionary<string, string> after)
    {
        var diff = new List<string>();
        foreach (var (path, hash) in before)
            if (!after.TryGetValue(path, out var now)) diff.Add($"deleted {path}");
            else if (now != hash) diff.Add($"changed {path}");
        foreach (var path in after.Keys.Where(p => !before.ContainsKey(p))) diff.Add($"created {path}");
        return diff;
    }

    /// <summary>Temporary files (written then renamed by MaskLab) under <paramref name="dir"/>.</summary>
    public static List<string> TemporaryFiles(string dir) => Directory.Exists(dir)
        ? Entries(dir).Where(e => e.Name.EndsWith(".tmp", StringComparison.Ordinal)).Select(e => e.Info.FullName).ToList()
        : [];
}

/// <summary>The result of a CLI child process.</summary>
public sealed record ChildResult(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    /// <summary>Killed by SIGKILL (the shell's 128 + 9).</summary>
    public bool Killed => ExitCode == 137;
}

/// <summary>
/// Runs the masklab CLI as a child process (<c>dotnet MaskLab.Cli.dll</c> from the test's build output), for what an
/// in-process run cannot show: a process killed mid-write, and a lock held by another process.
/// </summary>
public static class ChildCli
{
    static string Dll => Path.Combine(AppContext.BaseDirectory, "MaskLab.Cli.dll");

    public static Process Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["MASKLAB_HOME"] = Path.Combine(Path.GetTempPath(), "masklab-tests-home");
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    /// <summary>Runs to the end, or kills the process after <paramref name="killAfter"/> (SIGKILL, its whole tree).</summary>
    public static ChildResult Run(IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null, TimeSpan? killAfter = null,
        TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        using var p = Start(args, env);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (killAfter is { } k && !p.WaitForExit(k)) p.Kill(entireProcessTree: true);
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            throw new TimeoutException($"masklab {string.Join(' ', args)} ran past its timeout; stderr: {stderr.Result}");
        }
        p.WaitForExit();
        return new ChildResult(p.ExitCode, stdout.Result, stderr.Result, clock.Elapsed);
    }
}

/// <summary>The error contract of every verb, checked on a captured run: exit 2 and one line naming the cause, no trace.</summary>
public static class CliAssert
{
    /// <summary>Asserts exit 2 and a single "masklab: error:" line containing <paramref name="expected"/>; returns the line.</summary>
    public static string OneLineError(CliResult r, string expected)
    {
        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}: {r.Stderr}");
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("masklab: error:", line);
        Assert.Contains(expected, line);
        Assert.DoesNotContain("   at ", r.Stderr + r.Stdout);
        Assert.DoesNotContain("frame #", r.Stderr + r.Stdout);
        Assert.DoesNotContain("internal error", r.Stderr);
        return line;
    }
}
