using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MaskLab.Dashboard;
using MaskLab.Data.Layout;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using SkiaSharp;

namespace MaskLab.Tests;

/// <summary>
/// masklab serve's routes on ASP.NET Core's in-memory test server, over run folders written by the library's own
/// writers (no training): the runs table and its statuses, run, cell, compare, sweep, review and upload routes, the
/// served files and what they refuse, the token and same-origin rules, and a torn metrics.jsonl.
/// </summary>
public sealed class DashboardServerTests : IDisposable
{
    readonly TempDir _dir = new();
    readonly string _runs, _data;

    const string Person1 = "000001_male_Asian_45", Person2 = "000002_female_Asian_25";

    public DashboardServerTests()
    {
        _runs = Directory.CreateDirectory(_dir.Combine("runs")).FullName;
        _data = DashboardFakes.Data(_dir.Combine("data"), Person1, Person2);
    }

    public void Dispose() => _dir.Dispose();

    string Photo(string person, string stem) => Path.Combine(_data, "train", "images", person, stem + ".jpg");

    sealed class Server(WebApplication app, HttpClient client, DashboardOptions options) : IAsyncDisposable
    {
        public HttpClient Client { get; } = client;
        public DashboardOptions Options { get; } = options;

        public async Task<JsonElement> Json(string path, HttpStatusCode expected = HttpStatusCode.OK)
        {
            var r = await Client.GetAsync(path);
            var text = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == expected, $"GET {path}: {(int)r.StatusCode} {text}");
            return JsonDocument.Parse(text).RootElement.Clone();
        }

        /// <summary>A POST as the dashboard's own page sends it: token header and this server's Origin.</summary>
        public Task<HttpResponseMessage> Post(string path, HttpContent content, bool token = true, string? origin = "http://localhost")
        {
            var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
            if (token) req.Headers.Add(Security.Header, Options.Token);
            if (origin is not null) req.Headers.Add("Origin", origin);
            return Client.SendAsync(req);
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await app.DisposeAsync();
        }
    }

    static async Task<Server> Start(DashboardOptions options)
    {
        var app = DashboardServer.Create(options, b => b.WebHost.UseTestServer());
        await app.StartAsync();
        var client = app.GetTestClient();
        return new Server(app, client, options);
    }

    Task<Server> Start(string? token = null, string host = "127.0.0.1") => Start(DashboardFakes.Options(_runs, _data, token, host));

    static StringContent JsonBody(object o) => new(JsonSerializer.Serialize(o), Encoding.UTF8, "application/json");

    [Fact]
    public async Task RunsTableFindsRunsKFoldRootsAndSweepsWithTheirStatuses()
    {
        DashboardFakes.Run(Path.Combine(_runs, "done"), [0.2, 0.5, 0.4]);
        DashboardFakes.Run(Path.Combine(_runs, "group", "stopped"), [0.2], summary: false);
        var live = DashboardFakes.Run(Path.Combine(_runs, "group", "live"), [0.1, 0.2], summary: false);
        DashboardFakes.HeldByThisProcess(live.Path);
        DashboardFakes.Run(Path.Combine(_runs, "diverged"), [0.1]).WriteFailure("loss is not finite at epoch 2, batch 3");
        DashboardFakes.KFold(Path.Combine(_runs, "cv"), [Photo(Person1, "mask1")], _ => 0, _ => 0);
        WriteSweep(Path.Combine(_runs, "sw"));
        // A run's own subfolders and a dead writer's stale lock record are not runs, and do not make one "running".
        Directory.CreateDirectory(Path.Combine(_runs, "done", "tensorboard", "deep"));
        File.WriteAllText(Path.Combine(_runs, "group", "stopped", RunDirectory.LockHolderFileName),
            JsonSerializer.Serialize(new { pid = 999_999_999, host = Environment.MachineName, since = DateTimeOffset.UtcNow.ToString("O") }));

        await using var s = await Start();
        var rows = (await s.Json("/api/runs")).GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("id").GetString()!);
        Assert.Equal(["cv", "cv/fold-0", "cv/fold-1", "diverged", "done", "group/live", "group/stopped", "sw", "sw/lr=0.01__seed=1", "sw/lr=0.01__seed=2"],
            rows.Keys.Order(StringComparer.Ordinal));
        string Status(string id) => rows[id].GetProperty("status").GetString()!;
        Assert.Equal("finished", Status("done"));
        Assert.Equal("stopped", Status("group/stopped"));
        Assert.Equal("running", Status("group/live"));
        Assert.Equal("failed", Status("diverged"));
        Assert.Equal("finished", Status("cv"));
        Assert.Equal("kFold", rows["cv"].GetProperty("kind").GetString());
        Assert.Equal("cv", rows["cv/fold-1"].GetProperty("parent").GetString());
        Assert.Equal("sweep", rows["sw"].GetProperty("kind").GetString());
        Assert.Equal("stopped", Status("sw")); // one of its two runs has not finished
        Assert.Equal(0.5, rows["done"].GetProperty("valF1").GetDouble());
        Assert.Equal(0.49, rows["done"].GetProperty("evalF1").GetDouble(), 9);
        Assert.Equal(3, rows["done"].GetProperty("epochsDone").GetInt32());
        Assert.Equal(2, rows["group/live"].GetProperty("epochsDone").GetInt32());
        Assert.Equal(3, rows["group/live"].GetProperty("epochsPlanned").GetInt32());
        Assert.Equal("fp32", rows["done"].GetProperty("precision").GetString());
        Assert.Equal("cpu", rows["done"].GetProperty("device").GetString());
        Assert.Contains("not finite", rows["diverged"].GetProperty("problem").GetString());
        Assert.Equal(0.33, rows["cv"].GetProperty("oofF1").GetDouble());
        Assert.Equal(2, rows["sw"].GetProperty("members").GetInt32());
    }

    /// <summary>A sweep folder: sweep.yaml of one setting at seeds 1 and 2, seed 1 finished, seed 2 stopped after one epoch.</summary>
    void WriteSweep(string dir)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "sweep.yaml"), """
            base:
              model: baseline
              image_size: 24x32
              epochs: 3
            seeds: [1, 2]
            runs:
              - {lr: 0.01}
            """);
        DashboardFakes.Run(Path.Combine(dir, "lr=0.01__seed=1"), [0.3, 0.6, 0.5], overrides: ["lr=0.01", "seed=1"]);
        DashboardFakes.Run(Path.Combine(dir, "lr=0.01__seed=2"), [0.2], summary: false, overrides: ["lr=0.01", "seed=2"]);
    }

    [Fact]
    public async Task TornMetricsStillRenderTheRunMarked()
    {
        var run = DashboardFakes.Run(Path.Combine(_runs, "torn"), [0.2, 0.3], summary: false);
        // A line cut short in the middle of the file (a copy interrupted, an editor): the epochs around it still show.
        File.WriteAllText(run.MetricsFile, File.ReadAllLines(run.MetricsFile)[0] + "\n{\"epoch\":2,\"train_lo\n" + JsonSerializer.Serialize(DashboardFakes.Epoch(3, 0.4)) + "\n");
        await using var s = await Start();

        var row = (await s.Json("/api/runs")).GetProperty("rows").EnumerateArray().Single();
        Assert.True(row.GetProperty("torn").GetBoolean());
        Assert.Contains("line 2", row.GetProperty("problem").GetString());

        var page = await s.Json("/api/run?id=torn");
        var series = page.GetProperty("series")[0];
        Assert.Equal([1, 3], series.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("epoch").GetInt32()));
        Assert.Equal(2, series.GetProperty("torn").GetProperty("line").GetInt32());
        var html = await s.Client.GetStringAsync("/run?id=torn");
        Assert.Contains("<main id=\"main\">", html);
    }

    [Fact]
    public async Task RunPageCellPhotosAndTheFilesTheyName()
    {
        var run = DashboardFakes.Run(Path.Combine(_runs, "a"), [0.3, 0.6]);
        var wear = TaskClasses.Encode(MaskState.Wear, Gender.Male, AgeBand.From30To59);
        var notWear = TaskClasses.Encode(MaskState.NotWear, Gender.Male, AgeBand.From30To59);
        DashboardFakes.Predictions(run, [
            (Photo(Person1, "mask1"), wear, wear, 0.8f), (Photo(Person1, "mask2"), wear, notWear, 0.95f),
            (Photo(Person1, "mask3"), wear, notWear, 0.7f), (Photo(Person1, "normal"), notWear, notWear, 0.9f),
        ]);
        await using var s = await Start();

        var page = await s.Json("/api/run?id=a");
        Assert.Equal(2, page.GetProperty("series")[0].GetProperty("epochs").GetArrayLength());
        Assert.Equal(2, page.GetProperty("confusion")[wear][notWear].GetInt32());
        Assert.Equal(18, page.GetProperty("perClass").GetArrayLength());
        var wrong = page.GetProperty("wrong").EnumerateArray().ToList();
        Assert.Equal(2, wrong.Count);
        Assert.Equal(0.95, wrong[0].GetProperty("confidence").GetDouble(), 5); // most confident first
        Assert.Equal("baseline", page.GetProperty("config").GetProperty("model").GetString());
        Assert.Equal("cpu", page.GetProperty("metadata").GetProperty("device").GetProperty("device").GetString());

        var cell = await s.Json($"/api/run/cell?id=a&truth={wear}&predicted={notWear}");
        Assert.Equal(2, cell.GetProperty("count").GetInt32());
        var url = cell.GetProperty("photos")[0].GetProperty("url").GetString()!;
        Assert.Equal($"/files/data0/train/images/{Person1}/mask2.jpg", url);
        var photo = await s.Client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, photo.StatusCode);
        Assert.Equal("image/jpeg", photo.Content.Headers.ContentType!.MediaType);
        Assert.Equal(File.ReadAllBytes(Photo(Person1, "mask2")), await photo.Content.ReadAsByteArrayAsync());

        // A run's own text files are served as text; its checkpoints are not served at all.
        Assert.Equal(HttpStatusCode.OK, (await s.Client.GetAsync("/files/runs/a/config.yaml")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await s.Client.GetAsync("/files/runs/a/checkpoints/last.ckpt")).StatusCode);
        await s.Json("/api/run?id=nope", HttpStatusCode.NotFound);
        await s.Json("/api/run?id=../runs/a", HttpStatusCode.NotFound);
        await s.Json("/api/run?id=" + Uri.EscapeDataString(_runs + "/a"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task FilesOutsideTheServedFoldersAreRefused()
    {
        DashboardFakes.Run(Path.Combine(_runs, "a"), [0.3]);
        var secret = _dir.Combine("secret.txt");
        File.WriteAllText(secret, "not for the browser");
        // A link inside the runs folder that leads out of it, and one to a folder outside.
        File.CreateSymbolicLink(Path.Combine(_runs, "a", "leak.txt"), secret);
        Directory.CreateSymbolicLink(Path.Combine(_runs, "outside"), _dir.Path);
        await using var s = await Start();

        foreach (var path in new[]
                 {
                     "/files/runs/a/leak.txt", "/files/runs/outside/secret.txt", "/files/runs/..%2fsecret.txt", "/files/runs/a%2f..%2f..%2fsecret.txt",
                     "/files/runs/%2e%2e/secret.txt", "/files/data0/..%5c..%5csecret.txt", "/files/etc/passwd",
                     "/files/runs//etc/passwd",
                 })
        {
            var r = await s.Client.GetAsync(path);
            var body = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.BadRequest, $"{path}: {(int)r.StatusCode} {body}");
            Assert.DoesNotContain("not for the browser", body);
        }
        // The resolver itself, for what an HTTP client would normalise away before sending.
        var roots = new ServedRoots(_runs, [_data]);
        Assert.Null(roots.Resolve("runs", "../secret.txt", null, out var why));
        Assert.Contains("..", why);
        Assert.Null(roots.Resolve("runs", "a/../../secret.txt", null, out _));
        Assert.Null(roots.Resolve("runs", "/etc/passwd", null, out _));
        Assert.Null(roots.Resolve("runs", "a/config.yaml\0", null, out _));
        Assert.Null(roots.Resolve("runs", "a/config.yaml", "a%00/config.yaml", out _));
        Assert.Null(roots.Resolve("runs", "a/leak.txt", null, out why));
        Assert.Equal("outside the served folders", why);
        Assert.NotNull(roots.Resolve("runs", "a/config.yaml", "a/config.yaml", out _));
        Assert.Null(roots.UrlOf(secret));
    }

    [Fact]
    public async Task EveryPageAndAssetIsServedAndTheHostMustBeLoopback()
    {
        await using var s = await Start();
        foreach (var page in new[] { "/", "/run?id=x", "/compare?id=x", "/sweep?id=x", "/review?id=x", "/try" })
        {
            var r = await s.Client.GetAsync(page);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            var html = await r.Content.ReadAsStringAsync();
            Assert.Contains($"<meta name=\"masklab-token\" content=\"{s.Options.Token}\">", html);
            Assert.Contains("/assets/vendor/uplot/uPlot.iife.min.js", html);
            Assert.Contains("default-src 'self'", r.Headers.GetValues("Content-Security-Policy").Single());
        }
        foreach (var asset in new[] { "app.js", "app.css", "vendor/uplot/uPlot.iife.min.js", "vendor/uplot/uPlot.min.css", "vendor/uplot/LICENSE" })
            Assert.Equal(HttpStatusCode.OK, (await s.Client.GetAsync("/assets/" + asset)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await s.Client.GetAsync("/assets/nothing.js")).StatusCode);
        Assert.Contains("uPlot", await s.Client.GetStringAsync("/assets/vendor/uplot/uPlot.iife.min.js"));

        // DNS rebinding: a page of another site whose name resolves to 127.0.0.1 sends its own Host.
        var req = new HttpRequestMessage(HttpMethod.Get, "/api/runs");
        req.Headers.Host = "evil.example";
        Assert.Equal((HttpStatusCode)421, (await s.Client.SendAsync(req)).StatusCode);
    }

    [Fact]
    public async Task ANonLoopbackBindNeedsTheTokenForEveryRequest()
    {
        // No --token: one is generated, and reads need it as well as writes.
        var generated = DashboardFakes.Options(_runs, _data, host: "0.0.0.0");
        Assert.True(generated.TokenForReads);
        Assert.Equal(48, generated.Token.Length);
        Assert.Contains("?token=" + generated.Token, DashboardServer.BrowserUrl(generated, "http://0.0.0.0:8023"));
        Assert.False(DashboardFakes.Options(_runs, _data).TokenForReads);

        DashboardFakes.Run(Path.Combine(_runs, "a"), [0.3]);
        await using var s = await Start(token: "s3cret-token-1", host: "0.0.0.0");
        foreach (var path in new[] { "/", "/api/runs", "/api/run?id=a", "/files/runs/a/config.yaml", "/assets/app.js" })
        {
            var r = await s.Client.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
            Assert.Contains("token", await r.Content.ReadAsStringAsync());
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.Client.GetAsync("/api/runs?token=wrong-token-22")).StatusCode);

        // ?token= sets the cookie and sends the browser on without the token in its address.
        var first = await s.Client.GetAsync("/run?id=a&token=s3cret-token-1");
        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.Equal("/run?id=a", first.Headers.Location!.OriginalString);
        var cookie = first.Headers.GetValues("Set-Cookie").Single();
        Assert.Contains($"{Security.Cookie}=s3cret-token-1", cookie);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        var withCookie = new HttpRequestMessage(HttpMethod.Get, "/api/runs");
        withCookie.Headers.Add("Cookie", $"{Security.Cookie}=s3cret-token-1");
        Assert.Equal(HttpStatusCode.OK, (await s.Client.SendAsync(withCookie)).StatusCode);
        var withHeader = new HttpRequestMessage(HttpMethod.Get, "/api/runs");
        withHeader.Headers.Add(Security.Header, "s3cret-token-1");
        Assert.Equal(HttpStatusCode.OK, (await s.Client.SendAsync(withHeader)).StatusCode);
    }

    [Fact]
    public async Task LabelReviewWritesDecisionsAtomicallyIntoOneFixesFileThatTrainingReads()
    {
        var photos = Fixtures.PhotoStems.Select(st => Photo(Person1, st)).Concat(Fixtures.PhotoStems.Select(st => Photo(Person2, st))).ToList();
        int Truth(string p)
        {
            var male = p.Contains(Person1, StringComparison.Ordinal);
            var mask = TaskClasses.MaskFromPhotoName(Path.GetFileNameWithoutExtension(p))!.Value;
            return TaskClasses.Encode(mask, male ? Gender.Male : Gender.Female, male ? AgeBand.From30To59 : AgeBand.Under30);
        }
        // 000001 (labelled male) looks female on every photo; 000002's incorrect_mask photo looks like no mask.
        int Predicted(string p)
        {
            var (m, g, a) = TaskClasses.Decode(Truth(p));
            if (p.Contains(Person1, StringComparison.Ordinal)) g = Gender.Female;
            if (p.EndsWith("002_female_Asian_25/incorrect_mask.jpg", StringComparison.Ordinal)) m = MaskState.NotWear;
            return TaskClasses.Encode(m, g, a);
        }
        DashboardFakes.KFold(Path.Combine(_runs, "cv"), photos, Truth, Predicted, 0.95f);
        await using var s = await Start();

        var review = await s.Json("/api/review?id=cv");
        var keys = review.GetProperty("groups").EnumerateArray().SelectMany(g => g.GetProperty("items").EnumerateArray())
            .Select(i => i.GetProperty("key").GetString()).ToList();
        Assert.Equal(["000001/gender", "000002/incorrect_mask"], keys.Order(StringComparer.Ordinal));
        var file = review.GetProperty("fixesFile").GetString()!;
        Assert.Equal(Path.Combine(_runs, "label-reviews", "cv.label_fixes.csv"), file);
        Assert.False(File.Exists(file));

        // Refused: no token header, another site's Origin, a suspect that does not exist.
        Assert.Equal(HttpStatusCode.Forbidden, (await s.Post("/api/review/decide", JsonBody(new { id = "cv", key = "000001/gender", decision = "accept" }), token: false)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await s.Post("/api/review/decide", JsonBody(new { id = "cv", key = "000001/gender", decision = "accept" }), origin: "http://evil.example")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await s.Post("/api/review/decide", JsonBody(new { id = "cv", key = "000001/gender", decision = "accept" }), origin: null)).StatusCode);
        Assert.False(File.Exists(file));
        Assert.Equal(HttpStatusCode.NotFound, (await s.Post("/api/review/decide", JsonBody(new { id = "cv", key = "000009/gender", decision = "accept" }))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await s.Post("/api/review/decide", JsonBody(new { id = "cv", key = "000001/gender", decision = "maybe" }))).StatusCode);

        var accepted = await s.Post("/api/review/decide", JsonBody(new { id = "cv", key = "000001/gender", decision = "accept" }));
        Assert.True(accepted.IsSuccessStatusCode, await accepted.Content.ReadAsStringAsync());
        var rejected = await s.Post("/api/review/decide", JsonBody(new { id = "cv", key = "000002/incorrect_mask", decision = "reject" }));
        Assert.True(rejected.IsSuccessStatusCode, await rejected.Content.ReadAsStringAsync());

        var fixes = LabelFixes.Load(file);
        Assert.Equal([("000001", "gender", "female"), ("000002", "incorrect_mask", "incorrect")], fixes.Select(f => (f.Person, f.Field, f.Value)));
        Assert.Equal([file], Directory.GetFiles(Path.GetDirectoryName(file)!)); // no temporary file left
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(_runs, "cv")), f => f.Contains("fix", StringComparison.Ordinal)); // nothing written into the run

        // Applied to the data the way training applies it: the accepted fix changes the labels, the rejection keeps them.
        var set = new LabeledSet(photos.Select(p => new Sample(p, Truth(p), p.Split('/')[^2][..6],
            new Person(p.Split('/')[^2][..6], p.Contains(Person1, StringComparison.Ordinal) ? Gender.Male : Gender.Female, "Asian",
                p.Contains(Person1, StringComparison.Ordinal) ? 45 : 25, p.Split('/')[^2]), TaskClasses.MaskFromPhotoName(Path.GetFileNameWithoutExtension(p)))).ToList(),
            TaskClasses.Names, true, _data);
        var applied = LabelFixes.Apply(set, fixes);
        Assert.Single(applied.Applied);
        Assert.Single(applied.Skipped);
        Assert.All(applied.Set.Samples.Where(x => x.Person!.Id == "000001"), x => Assert.Equal(Gender.Female, x.Person!.Gender));

        // A second server (the next visit) finds the progress in the file.
        await using (var again = await Start())
        {
            var counts = (await again.Json("/api/review?id=cv")).GetProperty("counts");
            Assert.Equal(1, counts.GetProperty("accepted").GetInt32());
            Assert.Equal(1, counts.GetProperty("rejected").GetInt32());
            Assert.Equal(0, counts.GetProperty("open").GetInt32());
        }
        var undone = await s.Post("/api/review/decide", JsonBody(new { id = "cv", key = "000001/gender", decision = "undo" }));
        Assert.True(undone.IsSuccessStatusCode);
        Assert.Equal(["000002"], LabelFixes.Load(file).Select(f => f.Person));

        // A run that is not a k-fold run has nothing to review.
        DashboardFakes.Run(Path.Combine(_runs, "single"), [0.2]);
        await s.Json("/api/review?id=single", HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task ABrokenFixesFileIsNeverOverwritten()
    {
        DashboardFakes.KFold(Path.Combine(_runs, "cv"), [Photo(Person1, "mask1")], _ => 0, _ => TaskClasses.Encode(MaskState.Wear, Gender.Female, AgeBand.Under30), 0.99f);
        await using var s = await Start();
        var file = (await s.Json("/api/review?id=cv")).GetProperty("fixesFile").GetString()!;
        Fixtures.WriteText(file, "person,field,value\n000001,gender,sideways\n");
        var review = await s.Json("/api/review?id=cv");
        Assert.Contains("sideways", review.GetProperty("fileError").GetString());
        var r = await s.Post("/api/review/decide", JsonBody(new { id = "cv", key = "000001/gender", decision = "accept" }));
        Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
        Assert.Equal("person,field,value\n000001,gender,sideways\n", File.ReadAllText(file));
    }

    [Fact]
    public async Task CompareAndSweepPages()
    {
        DashboardFakes.Run(Path.Combine(_runs, "a"), [0.3, 0.4], overrides: ["lr=0.01"]);
        DashboardFakes.Run(Path.Combine(_runs, "b"), [0.35, 0.5, 0.45], overrides: ["lr=0.001", "loss=focal"]);
        WriteSweep(Path.Combine(_runs, "sw"));
        await using var s = await Start();

        var cmp = await s.Json("/api/compare?id=a&id=b&id=missing");
        Assert.Equal(2, cmp.GetProperty("runs").GetArrayLength());
        Assert.Equal(["missing"], cmp.GetProperty("missing").EnumerateArray().Select(x => x.GetString()));
        var keys = cmp.GetProperty("configKeys").EnumerateArray().Select(x => x.GetString()).ToList();
        Assert.Equal(["loss", "lr"], keys);
        Assert.Equal("0.01", cmp.GetProperty("configValues")[0][keys.IndexOf("lr")].GetString());

        var sweep = await s.Json("/api/sweep?id=sw");
        Assert.Equal(["lr"], sweep.GetProperty("variedKeys").EnumerateArray().Select(x => x.GetString()));
        var setting = sweep.GetProperty("settings").EnumerateArray().Single();
        Assert.Equal(1, setting.GetProperty("seeds").GetInt32());
        Assert.Equal(0.6, setting.GetProperty("val").GetProperty("mean").GetDouble());
        var runs = sweep.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(["finished", "stopped"], runs.Select(r => r.GetProperty("status").GetString()));
        await s.Json("/api/sweep?id=a", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task UploadsAreCappedInBytesAndPixelsAndDecodedByTheTrainingDecoder()
    {
        var run = DashboardFakes.Run(Path.Combine(_runs, "a"), [0.3]);
        File.WriteAllText(run.BestCheckpoint, "weights would be here");
        var options = DashboardFakes.Options(_runs, _data) with { MaxUploadBytes = 4000, MaxUploadPixels = 50 * 50 };
        await using var s = await Start(options);

        Assert.Contains("\"a\"", await s.Client.GetStringAsync("/api/try/runs"));
        static ByteArrayContent Bytes(byte[] b) { var c = new ByteArrayContent(b); c.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream"); return c; }
        static byte[] Png(int w, int h)
        {
            using var bitmap = new SKBitmap(w, h);
            bitmap.Erase(new SKColor(90, 140, 200));
            using var image = SKImage.FromBitmap(bitmap);
            return image.Encode(SKEncodedImageFormat.Png, 90).ToArray();
        }
        static byte[] Jpeg(int w, int h)
        {
            using var bitmap = new SKBitmap(w, h);
            for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) bitmap.SetPixel(x, y, new SKColor((byte)(x * 37 % 256), (byte)(y * 53 % 256), (byte)((x ^ y) * 11 % 256)));
            using var image = SKImage.FromBitmap(bitmap);
            return image.Encode(SKEncodedImageFormat.Jpeg, 90).ToArray();
        }

        var tooBig = await s.Post("/api/try?id=a", Bytes(new byte[5000]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Contains("capped", await tooBig.Content.ReadAsStringAsync());
        // Small in bytes, large in pixels: refused from its header, before any decoding.
        var wide = Png(400, 400);
        Assert.True(wide.Length < 4000);
        var manyPixels = await s.Post("/api/try?id=a", Bytes(wide));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, manyPixels.StatusCode);
        Assert.Contains("megapixels", await manyPixels.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, (await s.Post("/api/try?id=a", Bytes(Encoding.UTF8.GetBytes("not a photo at all")))).StatusCode);
        var whole = Jpeg(40, 40);
        Assert.True(whole.Length < 4000);
        var cut = await s.Post("/api/try?id=a", Bytes(whole[..(whole.Length * 2 / 3)]));
        Assert.Equal(HttpStatusCode.BadRequest, cut.StatusCode);
        Assert.Contains("truncated", await cut.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, (await s.Post("/api/try?id=a", Bytes([]))).StatusCode);
        // A photo that passes every check reaches the run, whose checkpoint here is no checkpoint: a clear refusal.
        var bad = await s.Post("/api/try?id=a", Bytes(Png(20, 20)));
        Assert.Equal(HttpStatusCode.Conflict, bad.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await s.Post("/api/try?id=a", Bytes(Png(20, 20)), token: false)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await s.Post("/api/try?id=nope", Bytes(Png(20, 20)))).StatusCode);
    }

    // ---- issue 29, the dashboard's items ----

    [Fact]
    public async Task Item05_ReviewFilesOfTwoKFoldRunsNeverCollide()
    {
        var photos = Fixtures.PhotoStems.Select(st => Photo(Person1, st)).ToList();
        int Truth(string p) => TaskClasses.Encode(TaskClasses.MaskFromPhotoName(Path.GetFileNameWithoutExtension(p))!.Value, Gender.Male, AgeBand.From30To59);
        int Flipped(string p) { var (m, _, a) = TaskClasses.Decode(Truth(p)); return TaskClasses.Encode(m, Gender.Female, a); }
        DashboardFakes.KFold(Path.Combine(_runs, "a", "kf"), photos, Truth, Flipped, 0.95f);
        DashboardFakes.KFold(Path.Combine(_runs, "a__kf"), photos, Truth, Flipped, 0.95f);
        await using var s = await Start();
        var fileA = (await s.Json("/api/review?id=a/kf")).GetProperty("fixesFile").GetString();
        var fileB = (await s.Json("/api/review?id=a__kf")).GetProperty("fixesFile").GetString();
        Assert.NotEqual(fileA, fileB);
        var accepted = await s.Post("/api/review/decide", JsonBody(new { id = "a/kf", key = "000001/gender", decision = "accept" }));
        Assert.True(accepted.IsSuccessStatusCode, await accepted.Content.ReadAsStringAsync());
        string Decision(JsonElement review) => review.GetProperty("groups")[0].GetProperty("items")[0].GetProperty("decision").GetString()!;
        Assert.Equal("accepted", Decision(await s.Json("/api/review?id=a/kf")));
        Assert.Equal("open", Decision(await s.Json("/api/review?id=a__kf")));

        // The name maps one to one over ids that the old rule (/ to __, other characters to -) sent to one file.
        string[] ids = [".", "_root", "runs-root", "a/kf", "a__kf", "a_/kf", "a/_kf", "a_u", "a_/u", "x y", "x-y", "x?y", "é/é", "_x41", "A"];
        var stems = ids.Select(LabelReview.FileStem).ToArray();
        Assert.Equal(ids.Length, stems.Distinct(StringComparer.Ordinal).Count());
        Assert.All(stems, st => Assert.Matches("^[A-Za-z0-9._=+-]+$", st));
        Assert.Equal("cv", LabelReview.FileStem("cv"));
        Assert.Equal("sweep__lr=0.01", LabelReview.FileStem("sweep/lr=0.01"));
    }

    [Fact]
    public async Task Item05_AReviewFileNamedByTheEarlierRuleStaysWithItsRun()
    {
        var photos = Fixtures.PhotoStems.Select(st => Photo(Person1, st)).ToList();
        int Truth(string p) => TaskClasses.Encode(TaskClasses.MaskFromPhotoName(Path.GetFileNameWithoutExtension(p))!.Value, Gender.Male, AgeBand.From30To59);
        DashboardFakes.KFold(Path.Combine(_runs, "base_cv"), photos, Truth, Truth, 0.95f);
        var reviews = Directory.CreateDirectory(Path.Combine(_runs, "label-reviews")).FullName;
        var legacy = Path.Combine(reviews, "base_cv.label_fixes.csv");
        File.WriteAllText(legacy, "person,field,value,note\n000001,gender,female,kept from before\n");
        await using var s = await Start();
        var review = await s.Json("/api/review?id=base_cv");
        var file = review.GetProperty("fixesFile").GetString()!;
        Assert.Equal(Path.Combine(reviews, "base_ucv.label_fixes.csv"), file);
        Assert.Contains("kept from before", File.ReadAllText(file));
        Assert.False(File.Exists(legacy));
    }

    [Fact]
    public async Task Item06_AFifoOrOtherSpecialFileInTheRunsFolderNeverStallsTheServer()
    {
        if (!OperatingSystem.IsLinux()) return;
        var run = DashboardFakes.Run(Path.Combine(_runs, "r2"), [0.3, 0.4]);
        DashboardFakes.Run(Path.Combine(_runs, "special"), [0.3]);
        MkFifo(Path.Combine(run.Path, "fifo.csv"));
        // Special files named like a run's own: the catalog and the run page must not wait on them either.
        foreach (var name in new[] { "metrics.jsonl", "summary.json", "metadata.json", "failure.txt", "val_predictions.csv", "confusion.csv", "per_class.csv" })
        {
            var f = Path.Combine(_runs, "special", name);
            File.Delete(f);
            MkFifo(f);
        }
        await using var s = await Start();
        s.Client.Timeout = TimeSpan.FromSeconds(30);
        var clock = Stopwatch.StartNew();
        var fifoRequests = Enumerable.Range(0, 40).Select(_ => s.Client.GetAsync("/files/runs/r2/fifo.csv")).ToArray();
        var rows = await s.Json("/api/runs");
        Assert.Equal(2, rows.GetProperty("rows").GetArrayLength());
        await s.Json("/api/run?id=special");
        await s.Json("/api/run?id=r2");
        foreach (var r in await Task.WhenAll(fifoRequests))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
            Assert.Contains("FIFO", await r.Content.ReadAsStringAsync());
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Contains("FIFO", (await s.Json("/api/runs")).GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("id").GetString() == "special").GetProperty("problem").GetString());
        // A link to a character device inside the served folder is refused as one too.
        File.CreateSymbolicLink(Path.Combine(_data, "train", "zero.jpg"), "/dev/zero");
        Assert.Null(new ServedRoots(_runs, [_data]).Resolve("data0", "train/zero.jpg", null, out _));
    }

    static void MkFifo(string path)
    {
        using var p = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    [Fact]
    public async Task Item07_ALongCurveIsThinnedKeepingTheFirstTheLastAndTheBest()
    {
        var run = DashboardFakes.Run(Path.Combine(_runs, "long"), [0.1], epochs: 50_000, summary: false);
        var lines = new StringBuilder();
        for (int e = 1; e <= 50_000; e++) lines.Append(JsonSerializer.Serialize(DashboardFakes.Epoch(e, e == 31_337 ? 0.99 : 0.5 * e / 50_000))).Append('\n');
        File.WriteAllText(run.MetricsFile, lines.ToString());
        await using var s = await Start();
        var series = (await s.Json("/api/run?id=long")).GetProperty("series")[0];
        var epochs = series.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("epoch").GetInt32()).ToList();
        Assert.InRange(epochs.Count, RunFiles.MaxEpochPoints / 2, RunFiles.MaxEpochPoints);
        Assert.Equal(50_000, series.GetProperty("thinnedFrom").GetInt32());
        Assert.Equal(1, epochs[0]);
        Assert.Equal(50_000, epochs[^1]);
        Assert.Contains(31_337, epochs);
        Assert.Equal(epochs.Order().ToList(), epochs);
        var row = (await s.Json("/api/runs")).GetProperty("rows")[0];
        Assert.Equal(50_000, row.GetProperty("epochsDone").GetInt32());
        Assert.Equal(3.5 * 50_000, row.GetProperty("wallSeconds").GetDouble(), 6);
    }

    /// <summary>
    /// Issue 29's load: 100 concurrent requests for a run of 200,000 epochs against a real <c>masklab serve</c> on
    /// loopback; the server's peak resident memory must stay under <see cref="ServerMemoryCapMiB"/> (it reached
    /// 7.6 GB when every request read and held the whole file).
    /// </summary>
    const int ServerMemoryCapMiB = 1024;

    [Fact]
    public async Task Item07_ServerMemoryStaysUnderItsCapWith100ConcurrentRequestsForTheLargestRun()
    {
        if (!OperatingSystem.IsLinux()) return;
        var run = DashboardFakes.Run(Path.Combine(_runs, "big"), [0.1], epochs: 200_000, summary: false);
        using (var w = new StreamWriter(run.MetricsFile))
            for (int e = 1; e <= 200_000; e++) w.Write(JsonSerializer.Serialize(DashboardFakes.Epoch(e, (e % 1000) / 1000.0)) + "\n");
        using var p = ChildCli.Start(["serve", "--runs", _runs, "--port", "0", "--host", "127.0.0.1"]);
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            var url = DashboardFakes.AddressServed(p, TimeSpan.FromSeconds(90));
            Assert.True(url is not null, $"no address printed; stderr: {(p.HasExited ? await stderr : "")}");
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
            var clock = Stopwatch.StartNew();
            var bodies = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => http.GetStringAsync(url + "api/run?id=big")));
            Assert.All(bodies, b => Assert.Contains("\"thinnedFrom\":200000", b));
            var peakMiB = PeakResidentMiB(p.Id);
            Assert.True(peakMiB < ServerMemoryCapMiB, $"serve peaked at {peakMiB} MiB with 100 concurrent requests (cap {ServerMemoryCapMiB} MiB)");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"100 requests took {clock.Elapsed.TotalSeconds:F1} s");
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
    }

    static long PeakResidentMiB(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024;
    }

    [Fact]
    public async Task Item11_TryAPhotoOnARunWhoseSummaryIsGarbageNamesTheSummary()
    {
        var run = DashboardFakes.Run(Path.Combine(_runs, "a"), [0.3]);
        File.WriteAllText(run.BestCheckpoint, "weights would be here");
        File.WriteAllText(run.SummaryFile, "\u0001garbage{{{");
        var noBest = DashboardFakes.Run(Path.Combine(_runs, "b"), [0.3]);
        await using var s = await Start();
        using var png = new ByteArrayContent(Fixtures.PngBytes(20, 20));
        png.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var r = await s.Post("/api/try?id=a", png);
        var body = await r.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
        Assert.Contains("summary.json", body);
        Assert.DoesNotContain("no trained weights", body);
        using var png2 = new ByteArrayContent(Fixtures.PngBytes(20, 20));
        png2.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var r2 = await s.Post("/api/try?id=b", png2);
        Assert.Equal(HttpStatusCode.Conflict, r2.StatusCode);
        Assert.Contains("checkpoints/best.ckpt", await r2.Content.ReadAsStringAsync());
    }

    [Fact]
    public void OptionsRefuseBadInputInOneLine()
    {
        Assert.Contains("is not a folder", Assert.Throws<MaskLabInputException>(() => DashboardFakes.Options(_dir.Combine("nope"))).Message);
        Assert.Contains("IP address", Assert.Throws<MaskLabInputException>(() => DashboardFakes.Options(_runs, host: "example.com")).Message);
        Assert.Contains("at least 8", Assert.Throws<MaskLabInputException>(() => DashboardFakes.Options(_runs, token: "short")).Message);
        Assert.Throws<MaskLabInputException>(() => DashboardOptions.Create(_runs, [], "127.0.0.1", 70000, null));
        // The runs folder is itself a k-fold root: reviews go beside it, never into it.
        var cv = DashboardFakes.KFold(Path.Combine(_runs, "cv"), [Photo(Person1, "mask1")], _ => 0, _ => 0);
        Assert.Equal(Path.Combine(_runs, "cv.label-reviews"), DashboardFakes.Options(cv.Path).ReviewsDir);
    }
}

/// <summary>The serve verb itself: bad arguments exit 2 with one line; a real start prints the address it answers on.</summary>
[Collection(CliConsoleCollection.Name)]
public sealed class ServeCommandTests : IDisposable
{
    readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("--runs", "/no/such/folder")]
    [InlineData("--host", "example.com")]
    [InlineData("--port", "70000")]
    [InlineData("--token", "short")]
    [InlineData("--data", "/no/such/data")]
    public void BadArgumentsExit2WithOneLine(string option, string value)
    {
        string[] args = option == "--runs" ? ["serve", option, value] : ["serve", "--runs", _dir.Path, option, value];
        var r = CliHarness.Run(args);
        Assert.Equal(2, r.ExitCode);
        var lines = r.Stderr.Trim().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("masklab: error:", lines[0]);
    }

    [Fact]
    public void APortInUseIsOneLineAndExit2()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var r = ChildCli.Run(["serve", "--runs", _dir.Path, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)], timeout: TimeSpan.FromSeconds(90));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("cannot listen", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task ServeStartsKestrelPrintsItsAddressAndStopsOnASignal(string signal)
    {
        DashboardFakes.Run(Path.Combine(_dir.Path, "a"), [0.4]);
        using var p = ChildCli.Start(["serve", "--runs", _dir.Path, "--port", "0", "--host", "127.0.0.1"]);
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            var url = DashboardFakes.AddressServed(p, TimeSpan.FromSeconds(60));
            Assert.True(url is not null, $"no address printed; stderr: {(p.HasExited ? await stderr : "")}");
            Assert.StartsWith("http://127.0.0.1:", url);
            using var http = new HttpClient();
            var json = await http.GetStringAsync(url + "api/runs");
            Assert.Contains("\"id\":\"a\"", json);
            using var kill = Process.Start("kill", ["-" + signal, p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
            kill.WaitForExit();
            Assert.True(p.WaitForExit(20_000), $"serve did not stop on SIG{signal}");
            Assert.Equal(0, p.ExitCode);
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
    }
}
