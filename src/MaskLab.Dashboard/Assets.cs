using System.Collections.Concurrent;
using System.Net;

namespace MaskLab.Dashboard;

/// <summary>The page shell, script, style and vendored uPlot, embedded in this assembly (wwwroot/ in the source tree).</summary>
public static class Assets
{
    static readonly ConcurrentDictionary<string, (byte[] Bytes, string ContentType)?> Cache = new(StringComparer.Ordinal);

    static readonly Dictionary<string, string> Types = new(StringComparer.OrdinalIgnoreCase)
    {
        [".js"] = "text/javascript; charset=utf-8", [".css"] = "text/css; charset=utf-8", [".html"] = "text/html; charset=utf-8",
        [".md"] = "text/plain; charset=utf-8", [""] = "text/plain; charset=utf-8",
    };

    /// <summary>An embedded file by its path under wwwroot/, or null.</summary>
    public static (byte[] Bytes, string ContentType)? Get(string name) => Cache.GetOrAdd(name, n =>
    {
        if (n.Contains("..", StringComparison.Ordinal) || n.Contains('\\')) return null;
        using var stream = typeof(Assets).Assembly.GetManifestResourceStream("wwwroot/" + n);
        if (stream is null) return null;
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        return (ms.ToArray(), Types.GetValueOrDefault(Path.GetExtension(n)) ?? "application/octet-stream");
    });

    /// <summary>The HTML every page starts from, with the token the page's script sends on requests that change something.</summary>
    public static string Shell(string token)
    {
        var html = System.Text.Encoding.UTF8.GetString(Get("index.html")?.Bytes ?? throw new InvalidOperationException("the dashboard lacks its embedded index.html"));
        return html.Replace("{{TOKEN}}", WebUtility.HtmlEncode(token), StringComparison.Ordinal);
    }
}
