using System.Net;
using System.Security.Cryptography;

namespace MaskLab.Dashboard;

/// <summary>What <c>masklab serve</c> was asked for, checked: the folders it may read, where it listens, its token.</summary>
public sealed record DashboardOptions
{
    /// <summary>The folder searched for runs, k-fold roots and sweeps (absolute).</summary>
    public required string RunsRoot { get; init; }

    /// <summary>Folders whose photos may be shown (the data sets runs trained on); absolute.</summary>
    public IReadOnlyList<string> DataRoots { get; init; } = [];

    /// <summary>Where label reviews write their label_fixes files: never inside a run (absolute).</summary>
    public required string ReviewsDir { get; init; }

    public IPAddress Host { get; init; } = IPAddress.Loopback;

    /// <summary>0 picks a free port.</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>The secret a browser presents (cookie, header or <c>?token=</c>); every POST needs it.</summary>
    public required string Token { get; init; }

    /// <summary>Whether reading pages needs the token too: always off loopback, and on loopback when one was given.</summary>
    public bool TokenForReads { get; init; }

    /// <summary>Largest upload for "try a photo", in bytes.</summary>
    public long MaxUploadBytes { get; init; } = 20 << 20;

    /// <summary>Largest upload for "try a photo", in pixels (width x height).</summary>
    public long MaxUploadPixels { get; init; } = 40_000_000;

    public const int DefaultPort = 8023;

    public bool IsLoopback => IPAddress.IsLoopback(Host);

    /// <summary>
    /// Checks the user's choices: the runs folder must exist, the host must be an IP address (or localhost), a
    /// non-loopback host needs a token (one is generated when none is given). Bad input throws
    /// <see cref="MaskLabInputException"/> with one line.
    /// </summary>
    public static DashboardOptions Create(string runs, IEnumerable<string> data, string host, int port, string? token, string? reviews = null)
    {
        if (!Directory.Exists(runs)) throw new MaskLabInputException($"--runs '{runs}' is not a folder (train a run first, or name the folder that holds your runs)");
        var runsRoot = Path.GetFullPath(runs);
        var dataRoots = new List<string>();
        foreach (var d in data)
        {
            if (!Directory.Exists(d)) throw new MaskLabInputException($"--data '{d}' is not a folder");
            dataRoots.Add(Path.GetFullPath(d));
        }
        if (port is < 0 or > 65535) throw new MaskLabInputException($"--port {port} must be 0..65535 (0 picks a free port)");
        IPAddress address;
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) address = IPAddress.Loopback;
        else if (!IPAddress.TryParse(host.Trim('[', ']'), out address!))
            throw new MaskLabInputException($"--host '{host}' must be an IP address (127.0.0.1, ::1, 0.0.0.0, an address of this machine) or localhost");
        if (token is not null && (token.Length < 8 || token.Any(c => c <= ' ' || c > '~' || c is ';' or ',' or '"' or '\\')))
            throw new MaskLabInputException("--token must be at least 8 printable ASCII characters without spaces, quotes, commas, semicolons or backslashes");
        var loopback = IPAddress.IsLoopback(address);
        return new DashboardOptions
        {
            RunsRoot = runsRoot,
            DataRoots = dataRoots,
            ReviewsDir = reviews is not null ? Path.GetFullPath(reviews) : DefaultReviewsDir(runsRoot),
            Host = address,
            Port = port,
            Token = token ?? NewToken(),
            TokenForReads = !loopback || token is not null,
        };
    }

    /// <summary>
    /// label-reviews/ under the runs folder; beside it where the runs folder is itself a run, a k-fold root or a
    /// sweep, since the server never writes into one.
    /// </summary>
    public static string DefaultReviewsDir(string runsRoot)
    {
        var isRunLike = File.Exists(Path.Combine(runsRoot, "config.yaml")) || File.Exists(Path.Combine(runsRoot, "sweep.yaml"));
        return isRunLike
            ? Path.Combine(Path.GetDirectoryName(runsRoot.TrimEnd('/')) ?? runsRoot, Path.GetFileName(runsRoot.TrimEnd('/')) + ".label-reviews")
            : Path.Combine(runsRoot, "label-reviews");
    }

    /// <summary>24 random bytes as 48 hex digits, as Jupyter makes its token.</summary>
    public static string NewToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
}
