using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MaskLab.Dashboard;

/// <summary>
/// The dashboard's web application: pages, their JSON, the served files. Built on Kestrel bound to
/// <see cref="DashboardOptions.Host"/>; tests hand in <c>configure</c> to run it on ASP.NET Core's test server instead.
/// </summary>
public static class DashboardServer
{
    static readonly string[] Pages = ["/", "/run", "/compare", "/sweep", "/review", "/try"];

    public static WebApplication Create(DashboardOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        if (configure is null)
            builder.WebHost.ConfigureKestrel(k =>
            {
                k.Listen(options.Host, options.Port);
                k.Limits.MaxRequestBodySize = options.MaxUploadBytes + (1 << 20);
                k.AddServerHeader = false;
            });
        else configure(builder);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            // A thousand rows of mostly empty scores: leave the empty ones out (the pages treat missing as empty).
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        });
        var roots = new ServedRoots(options.RunsRoot, options.DataRoots);
        var catalog = new RunCatalog(options.RunsRoot);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(roots);
        builder.Services.AddSingleton(catalog);
        builder.Services.AddSingleton(new RunDetails(catalog, roots));
        builder.Services.AddSingleton(new CompareDetails(catalog));
        builder.Services.AddSingleton(new SweepDetails(catalog));
        builder.Services.AddSingleton(new LabelReview(catalog, roots, options.ReviewsDir));
        builder.Services.AddSingleton(_ => new PhotoTrial(catalog, options));

        var app = builder.Build();
        app.Use((http, next) => Security.Guard(http, options, () => next(http)));
        app.Use(async (http, next) =>
        {
            try { await next(http); }
            catch (Exception e) when (e is MaskLabInputException or ReviewException or TrialException or BadHttpRequestException)
            {
                if (http.Response.HasStarted) throw;
                var status = e switch
                {
                    ReviewException r => r.Status,
                    TrialException t => t.Status,
                    BadHttpRequestException b => b.StatusCode,
                    _ => 400,
                };
                http.Response.Clear();
                await Results.Json(new { error = e.Message.ReplaceLineEndings(" ") }, statusCode: status).ExecuteAsync(http);
            }
        });

        foreach (var page in Pages)
            app.MapGet(page, () => Results.Content(Assets.Shell(options.Token), "text/html; charset=utf-8"));
        app.MapGet("/assets/{**name}", (string name) => Assets.Get(name) is { } a ? Results.Bytes(a.Bytes, a.ContentType) : Results.NotFound());

        app.MapGet("/api/runs", (RunCatalog c) =>
        {
            var clock = Stopwatch.StartNew();
            var rows = c.Rows();
            return Results.Json(new { root = c.Root, rows, milliseconds = clock.Elapsed.TotalMilliseconds });
        });
        app.MapGet("/api/run", (string? id, RunDetails d) => id is not null && d.Build(id) is { } o ? Results.Json(o) : NotFound(id));
        app.MapGet("/api/run/cell", (string? id, int truth, int predicted, RunDetails d) =>
            id is not null && d.Cell(id, truth, predicted) is { } o ? Results.Json(o) : NotFound(id));
        app.MapGet("/api/compare", (HttpRequest req, CompareDetails d) => Results.Json(d.Build(req.Query["id"].Where(v => v is not null).Select(v => v!).ToList())));
        app.MapGet("/api/sweep", (string? id, SweepDetails d) => id is not null && d.Build(id) is { } o ? Results.Json(o) : NotFound(id));
        app.MapGet("/api/review", (string? id, double? threshold, LabelReview r) =>
            id is null ? NotFound(id) : Results.Json(r.Build(id, threshold ?? LabelReview.DefaultThreshold)));
        app.MapPost("/api/review/decide", (ReviewDecision body, LabelReview r) =>
            Results.Json(r.Decide(body.Id ?? "", body.Key ?? "", body.Decision ?? "", body.Threshold ?? LabelReview.DefaultThreshold)));
        app.MapGet("/api/try/runs", (PhotoTrial t) => Results.Json(t.Candidates()));
        app.MapPost("/api/try", async (HttpContext http, string? id, PhotoTrial t) =>
        {
            if (id is null) return NotFound(id);
            return Results.Json(await t.TryAsync(id, http.Request.Body, http.Request.ContentLength, http.RequestAborted));
        });
        app.MapGet("/files/{root}/{**path}", (HttpContext http, string root, string? path, ServedRoots served) =>
        {
            var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
            var prefix = $"/files/{root}/";
            var rawRelative = raw.StartsWith(prefix, StringComparison.Ordinal) ? raw[prefix.Length..].Split('?')[0] : raw;
            var file = served.Resolve(root, path ?? "", rawRelative, out var reason);
            if (file is null) return Results.Json(new { error = $"not served: {reason}" }, statusCode: reason == "no such file" ? 404 : 403);
            var type = ServedRoots.ContentType(file);
            if (type is null) return Results.Json(new { error = "not served: the dashboard hands out photos and the text files of runs only" }, statusCode: 403);
            return Results.File(file, type, enableRangeProcessing: false);
        });
        return app;
    }

    /// <summary>
    /// Reads every run once, then asks the started server for its own runs table once (the answer is thrown away), so
    /// that the first request a browser makes answers from what is kept, not from cold files and code. Returns the rows.
    /// </summary>
    public static IReadOnlyList<RunRow> Prepare(WebApplication app, string boundUrl)
    {
        var rows = app.Services.GetRequiredService<RunCatalog>().Rows();
        var options = app.Services.GetRequiredService<DashboardOptions>();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
            var req = new HttpRequestMessage(HttpMethod.Get, boundUrl.TrimEnd('/') + "/api/runs");
            req.Headers.Add(Security.Header, options.Token);
            if (options.Host.Equals(System.Net.IPAddress.Any) || options.Host.Equals(System.Net.IPAddress.IPv6Any))
                req.RequestUri = new Uri($"http://127.0.0.1:{new Uri(boundUrl).Port}/api/runs");
            using var _ = http.Send(req);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException) { }
        return rows;
    }

    static IResult NotFound(string? id) => Results.Json(new { error = id is null ? "which run? (id=...)" : $"no run, k-fold run or sweep '{id}' under the runs folder" }, statusCode: 404);

    /// <summary>A label review decision as the review page posts it.</summary>
    public sealed record ReviewDecision(string? Id, string? Key, string? Decision, double? Threshold);

    /// <summary>The address a browser opens: with the token where one is needed, as Jupyter prints it.</summary>
    public static string BrowserUrl(DashboardOptions options, string boundUrl) =>
        options.TokenForReads ? $"{boundUrl.TrimEnd('/')}/?token={options.Token}" : boundUrl.TrimEnd('/') + "/";
}
