using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace MaskLab.Dashboard;

/// <summary>
/// The server's guard, run before every route:
/// <list type="bullet">
/// <item>On a loopback bind, the Host header must name the loopback (localhost, 127.x, [::1]): a page of another site
/// whose name resolves to 127.0.0.1 (DNS rebinding) is refused.</item>
/// <item>Where reads need the token (any non-loopback bind, or a token given on the command line), every request
/// must carry it: the <c>masklab_token</c> cookie, the <c>X-MaskLab-Token</c> header, or <c>?token=</c>, which sets
/// the cookie (HttpOnly, SameSite=Strict) and redirects to the same address without it.</item>
/// <item>Every request that changes something (POST) needs the token in the header, which only the server's own
/// pages can read, and an Origin (or Referer) of this very server.</item>
/// </list>
/// </summary>
public static class Security
{
    public const string Cookie = "masklab_token";
    public const string Header = "X-MaskLab-Token";

    public static async Task Guard(HttpContext http, DashboardOptions options, Func<Task> next)
    {
        var req = http.Request;
        if (options.IsLoopback && !LoopbackHost(req.Host.Host))
        {
            await Refuse(http, 421, $"this server answers to localhost only, not to '{req.Host.Host}'");
            return;
        }

        var headers = http.Response.Headers;
        headers["X-Content-Type-Options"] = "nosniff";
        headers["X-Frame-Options"] = "DENY";
        headers["Referrer-Policy"] = "same-origin";
        headers["Cache-Control"] = "no-store";
        // The pages load nothing from elsewhere; uPlot sets styles from script, the photo preview uses blob: addresses.
        headers["Content-Security-Policy"] =
            "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

        if (options.TokenForReads && req.Query.TryGetValue("token", out var q) && Same(q.ToString(), options.Token) && HttpMethods.IsGet(req.Method))
        {
            http.Response.Cookies.Append(Cookie, options.Token, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/" });
            var rest = string.Join('&', req.Query.Where(p => p.Key != "token").SelectMany(p => p.Value.Select(v => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(v ?? "")}")));
            http.Response.Redirect(req.PathBase + req.Path + (rest.Length > 0 ? "?" + rest : ""));
            return;
        }

        bool changes = !(HttpMethods.IsGet(req.Method) || HttpMethods.IsHead(req.Method));
        if (changes)
        {
            if (!Same(req.Headers[Header].ToString(), options.Token))
            {
                await Refuse(http, 403, $"this request changes something and needs the {Header} header the dashboard's own pages send");
                return;
            }
            if (!SameOrigin(req))
            {
                await Refuse(http, 403, "this request comes from another site (Origin or Referer is not this server)");
                return;
            }
        }
        else if (options.TokenForReads && !HasToken(req, options.Token))
        {
            await Refuse(http, 401, "this dashboard needs its token: open the address masklab serve printed (…/?token=…)");
            return;
        }
        await next();
    }

    static bool HasToken(HttpRequest req, string token) =>
        Same(req.Cookies[Cookie], token) || Same(req.Headers[Header].ToString(), token) || Same(req.Query["token"].ToString(), token);

    /// <summary>Constant-time comparison, so the token cannot be guessed a character at a time from response times.</summary>
    static bool Same(string? given, string token) =>
        given is { Length: > 0 } && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(token));

    static bool LoopbackHost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>The Origin header (or, where a browser sends none, the Referer) names this server's scheme, host and port.</summary>
    static bool SameOrigin(HttpRequest req)
    {
        var self = $"{req.Scheme}://{req.Host}";
        var origin = req.Headers.Origin.ToString();
        if (origin.Length > 0) return string.Equals(origin, self, StringComparison.OrdinalIgnoreCase);
        var referer = req.Headers.Referer.ToString();
        return Uri.TryCreate(referer, UriKind.Absolute, out var r)
               && string.Equals($"{r.Scheme}://{r.Authority}", self, StringComparison.OrdinalIgnoreCase);
    }

    static Task Refuse(HttpContext http, int status, string message)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json; charset=utf-8";
        return http.Response.WriteAsync(System.Text.Json.JsonSerializer.Serialize(new { error = message }));
    }
}
