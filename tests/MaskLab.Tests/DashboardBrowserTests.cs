using System.Text.Json;
using MaskLab.Dashboard;
using MaskLab.Data.Layout;
using Microsoft.AspNetCore.Builder;
using Microsoft.Playwright;

namespace MaskLab.Tests;

/// <summary>
/// A test that drives Debian's headless Chromium (<c>/usr/bin/chromium</c>, or the one MASKLAB_CHROMIUM names). It
/// runs wherever Chromium is; where it is not, it is skipped with the reason, except under CI (CI=true), where it
/// must run (.ci/run installs Chromium) and so fails instead. MASKLAB_NO_BROWSER=1 skips it outright (not under CI).
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public const string OptOut = "MASKLAB_NO_BROWSER";

    public static string Chromium => Environment.GetEnvironmentVariable("MASKLAB_CHROMIUM") is { Length: > 0 } c ? c : "/usr/bin/chromium";

    public BrowserFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("CI") == "true") return;
        if (Environment.GetEnvironmentVariable(OptOut) == "1")
            Skip = $"{OptOut}=1: the dashboard's browser tests are skipped";
        else if (!File.Exists(Chromium))
            Skip = $"no Chromium at {Chromium}: the dashboard's browser tests are skipped (apt-get install chromium chromium-driver; ./test.sh does it where it may)";
    }
}

/// <summary>
/// What the browser tests share: real tiny trainings (a two-run sweep and a two-fold k-fold run on the tiny synthetic
/// set, baseline at 24x32, one epoch), the dashboard on Kestrel at a free loopback port, and one headless Chromium.
/// </summary>
public sealed class DashboardBrowserFixture : IAsyncLifetime
{
    public string Root { get; } = Directory.CreateTempSubdirectory("masklab-dashboard-browser-").FullName;
    public string Runs => Path.Combine(Root, "runs");
    public string Url { get; private set; } = "";
    public WebApplication? App { get; private set; }
    public IPlaywright? Playwright { get; private set; }
    public IBrowser? Browser { get; private set; }

    /// <summary>Screenshots of every page the tests visit: kept as the tests' output.</summary>
    public static string Screenshots => Environment.GetEnvironmentVariable("MASKLAB_SCREENSHOTS") is { Length: > 0 } d ? d
        : Path.Combine(AppContext.BaseDirectory, "dashboard-screenshots");

    public static readonly string[] Tiny = ["model=baseline", "image_size=24x32", "batch_size=32", "lr=0.003", "warmup_epochs=0", "threads=2", "epochs=1", "face_crop=none"];

    public async Task InitializeAsync()
    {
        if (new BrowserFactAttribute().Skip is not null) return;
        Directory.CreateDirectory(Runs);
        var sweepFile = Path.Combine(Root, "tiny-sweep.yaml");
        File.WriteAllText(sweepFile, $"""
            base:
              model: baseline
              image_size: 24x32
              batch_size: 32
              lr: 0.003
              warmup_epochs: 0
              threads: 2
              epochs: 1
              face_crop: none
              data: {TinySynthetic.Root}
            seeds: [1, 2]
            """);
        var spec = SweepSpec.Load(sweepFile);
        new Sweep(SweepPlan.Expand(spec), Path.Combine(Runs, "sweep")).Run(spec);
        var cv = RunConfig.Load(null, [$"data={TinySynthetic.Root}", "folds=2", "seed=3", .. Tiny]).Validate();
        new CrossValidation(cv, new RunDirectory(Path.Combine(Runs, "kfold"))).Run(end: new RunEnd(Predict: false, Report: false));

        App = DashboardServer.Create(DashboardFakes.Options(Runs, TinySynthetic.Root));
        await App.StartAsync();
        Url = App.Urls.First().TrimEnd('/');
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = BrowserFactAttribute.Chromium,
            Headless = true,
            // Playwright gives each launch a fresh, empty profile (its own --user-data-dir). The rest keeps Chromium
            // off the network, which this machine does not have.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic"],
        });
        Directory.CreateDirectory(Screenshots);
    }

    public async Task<IPage> Page()
    {
        var page = await Browser!.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        page.SetDefaultTimeout(30_000);
        return page;
    }

    public static Task Shot(IPage page, string name, bool fullPage = true) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = fullPage });

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        Playwright?.Dispose();
        if (App is not null) await App.DisposeAsync();
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>
/// The dashboard in a real headless Chromium, over real trainings: the runs table lists the sweep and the k-fold run
/// and sorts; a run page draws its curves and a confusion cell opens its photos; compare shows two runs; the sweep
/// page; a label review accept writes the fix file and train applies it; an uploaded photo gets probabilities; a live
/// run's page shows a new epoch without a reload. Screenshots of each page go to <see cref="DashboardBrowserFixture.Screenshots"/>.
/// </summary>
[Collection(CliConsoleCollection.Name)]
public sealed class DashboardBrowserTests(DashboardBrowserFixture fx) : IClassFixture<DashboardBrowserFixture>
{
    const string SweepRun1 = "sweep/seed=1", SweepRun2 = "sweep/seed=2";

    static async Task<double[]> Column(IPage page, string key)
    {
        var index = await page.EvalOnSelectorAsync<int>($"#runs-table th[data-key='{key}']", "th => [...th.parentNode.children].indexOf(th)");
        var texts = await page.EvalOnSelectorAllAsync<string[]>("#runs-table tbody tr", $"rows => rows.map(r => r.children[{index}].textContent)");
        return texts.Where(t => t.Length > 0).Select(t => double.Parse(t, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }

    [BrowserFact]
    public async Task RunsTableListsTheSweepAndTheKFoldRunAndSorts()
    {
        var page = await fx.Page();
        await page.GotoAsync(fx.Url + "/");
        await page.WaitForSelectorAsync("#runs-table tr[data-kind='sweep']");
        foreach (var (id, kind) in new[] { ("sweep", "sweep"), (SweepRun1, "run"), (SweepRun2, "run"), ("kfold", "kFold"), ("kfold/fold-0", "fold"), ("kfold/fold-1", "fold") })
            Assert.Equal(kind, await page.GetAttributeAsync($"#runs-table tr[data-id='{id}']", "data-kind"));
        // Six, and the runs other tests of this class may have added by now (live, facecrop).
        Assert.InRange(await page.Locator("#runs-table tbody tr").CountAsync(), 6, 8);
        Assert.Equal("finished", await page.GetAttributeAsync("#runs-table tr[data-id='kfold'] .badge", "data-status"));

        await page.ClickAsync("#runs-table th[data-key='valF1']");
        var down = await Column(page, "valF1");
        Assert.Equal(down.OrderByDescending(x => x), down);
        await page.ClickAsync("#runs-table th[data-key='valF1']");
        var up = await Column(page, "valF1");
        Assert.Equal(up.Order(), up);
        Assert.True(up.Length >= 5);

        await page.FillAsync("#filter", "fold-");
        Assert.Equal(2, await page.Locator("#runs-table tbody tr").CountAsync());
        await page.FillAsync("#filter", "");
        await DashboardBrowserFixture.Shot(page, "runs");
    }

    [BrowserFact]
    public async Task RunPageDrawsItsCurvesAndAConfusionCellOpensItsPhotos()
    {
        var page = await fx.Page();
        await page.GotoAsync($"{fx.Url}/run?id={Uri.EscapeDataString(SweepRun1)}");
        await page.WaitForSelectorAsync("#curves .uplot canvas");
        // uPlot has drawn lines, not an empty frame: count the canvas's coloured pixels.
        var coloured = await page.EvalOnSelectorAsync<int>("#curves .uplot canvas", """
            c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
                   for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && !(d[i] > 240 && d[i + 1] > 240 && d[i + 2] > 240)) n++; return n; }
            """);
        Assert.True(coloured > 200, $"the loss plot has only {coloured} drawn pixels");
        Assert.True(await page.Locator("#curves .uplot").CountAsync() >= 3);

        var cell = page.Locator("#confusion-table td.cell:not([data-n='0'])").First;
        var n = int.Parse((await cell.GetAttributeAsync("data-n"))!, System.Globalization.CultureInfo.InvariantCulture);
        await cell.ClickAsync();
        await page.WaitForSelectorAsync("#cell-photos figure img");
        Assert.Equal(Math.Min(n, RunDetails.CellPhotos), await page.Locator("#cell-photos figure").CountAsync());
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#cell-photos img')].every(i => i.complete && i.naturalWidth > 0)");
        await DashboardBrowserFixture.Shot(page, "run-confusion-cell");
        await page.Keyboard.PressAsync("Escape");
        Assert.True(await page.Locator("#wrong figure").CountAsync() > 0);
        await DashboardBrowserFixture.Shot(page, "run");

        var kfold = await fx.Page();
        await kfold.GotoAsync($"{fx.Url}/run?id=kfold");
        await kfold.WaitForSelectorAsync("#folds tbody tr");
        Assert.Equal(2, await kfold.Locator("#folds tbody tr").CountAsync());
        await kfold.WaitForSelectorAsync("#confusion-table");
        await DashboardBrowserFixture.Shot(kfold, "kfold");
    }

    [BrowserFact]
    public async Task CompareShowsTwoRunsAndTheSweepPageItsSettings()
    {
        var page = await fx.Page();
        await page.GotoAsync(fx.Url + "/");
        await page.CheckAsync($"#runs-table input[data-id='{SweepRun1}']");
        await page.CheckAsync("#runs-table input[data-id='kfold/fold-0']");
        await page.ClickAsync("#compare-selected");
        await page.WaitForSelectorAsync("#compare-runs tbody tr");
        Assert.Equal(2, await page.Locator("#compare-runs tbody tr").CountAsync());
        await page.WaitForSelectorAsync("#curves .uplot canvas");
        // Two lines in the overlaid F1 legend (uPlot's legend has a row per series, after the x row).
        Assert.Equal(2, await page.Locator("#curves .plot").First.Locator(".u-legend .u-series").CountAsync() - 1);
        Assert.True(await page.Locator("#config-diff tr[data-key='seed']").CountAsync() == 1);
        await DashboardBrowserFixture.Shot(page, "compare");

        await page.GotoAsync(fx.Url + "/sweep?id=sweep");
        await page.WaitForSelectorAsync("#sweep-summary tbody tr");
        Assert.Contains("±", await page.InnerTextAsync("#sweep-summary tbody tr"));
        Assert.Equal(1, await page.Locator("#spread-plot circle").CountAsync());
        Assert.Equal(2, await page.Locator("#sweep-runs tbody tr").CountAsync());
        await DashboardBrowserFixture.Shot(page, "sweep");
    }

    [BrowserFact]
    public async Task LabelReviewAcceptWritesTheFixFileAndTrainAppliesIt()
    {
        var page = await fx.Page();
        // A low threshold, so that the one-epoch models' doubts give suspects to review.
        await page.GotoAsync($"{fx.Url}/review?id=kfold&threshold=0.05");
        await page.WaitForSelectorAsync(".item.current");
        var file = await page.InnerTextAsync("#fixes-file");
        Assert.False(File.Exists(file));
        var first = await page.GetAttributeAsync(".item.current", "data-key");
        // Each suspect says why: its score against the threshold, and for an age the age the models predict in years.
        Assert.Contains("≥ threshold 0.05", await page.InnerTextAsync(".item.current .why"));
        foreach (var why in await page.Locator(".group[data-person] .item").AllInnerTextsAsync())
            if (why.StartsWith("age:", StringComparison.Ordinal)) Assert.Matches(@"predicted age \d+\.\d years", why);

        await page.Keyboard.PressAsync("a");
        await page.WaitForSelectorAsync($".item[data-key='{first}'][data-decision='accepted']");
        var second = await page.GetAttributeAsync(".item.current", "data-key");
        Assert.NotEqual(first, second);
        await page.ClickAsync(".item.current button.reject");
        await page.WaitForSelectorAsync($".item[data-key='{second}'][data-decision='rejected']");
        await DashboardBrowserFixture.Shot(page, "review", fullPage: false);

        var fixes = LabelFixes.Load(file);
        Assert.Equal(2, fixes.Count);
        Assert.Equal(first, $"{fixes[0].Person}/{fixes[0].Field}");

        // The progress is in the file: a new visit shows both decisions.
        await page.ReloadAsync();
        await page.WaitForSelectorAsync($".item[data-key='{first}'][data-decision='accepted']");
        Assert.Contains("2 of", await page.InnerTextAsync("#review-counts"));

        // train applies the accepted fix and reports the kept label as skipped.
        var run = Path.Combine(fx.Root, "fixed");
        var r = CliHarness.Run(["train", "--data", TinySynthetic.Root, "--out", run, "--set", $"label_fixes={file}",
            .. DashboardBrowserFixture.Tiny.SelectMany(t => new[] { "--set", t })]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json")));
        Assert.Equal(1, summary.RootElement.GetProperty("label_fixes_applied").GetInt32());
        var record = File.ReadAllText(Path.Combine(run, "label_fixes.csv"));
        Assert.Contains(fixes[0].Person, record);
    }

    [BrowserFact]
    public async Task AnUploadedPhotoGetsItsProbabilities()
    {
        var photo = Directory.EnumerateFiles(Path.Combine(TinySynthetic.Root, "eval", "images")).Order(StringComparer.Ordinal).First();
        // The same weights as a run that cuts faces: its config says face_crop: detect, so the photo goes through BlazeFace first.
        var faces = Path.Combine(fx.Runs, "facecrop");
        foreach (var file in Directory.EnumerateFiles(Path.Combine(fx.Runs, SweepRun1), "*", SearchOption.AllDirectories)
                     .Where(f => !Path.GetFileName(f).StartsWith(".lock", StringComparison.Ordinal)))
        {
            var to = Path.Combine(faces, Path.GetRelativePath(Path.Combine(fx.Runs, SweepRun1), file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        var config = Path.Combine(faces, "config.yaml");
        File.WriteAllLines(config, File.ReadAllLines(config).Select(l => l.StartsWith("face_crop:", StringComparison.Ordinal) ? "face_crop: detect" : l));
        foreach (var id in new[] { SweepRun1, "kfold", "facecrop" })
        {
            var page = await fx.Page();
            await page.GotoAsync($"{fx.Url}/try?id={Uri.EscapeDataString(id)}");
            await page.WaitForSelectorAsync($"#try-run option[value='{id}']", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
            await page.SetInputFilesAsync("#try-file", photo);
            await page.ClickAsync("#try-go");
            await page.WaitForSelectorAsync("#try-probs tr");
            Assert.Equal(18, await page.Locator("#try-probs tr").CountAsync());
            var sum = await page.EvalOnSelectorAllAsync<double>("#try-probs tr td.num", "tds => tds.reduce((s, td) => s + parseFloat(td.textContent), 0)");
            Assert.InRange(sum, 0.99, 1.01);
            Assert.Matches("(mask|incorrect|no mask).*(male|female).*(<30|30-59|60\\+)", await page.InnerTextAsync("#try-answer"));
            var note = await page.InnerTextAsync("#try-result .trial .note");
            if (id == "facecrop") Assert.Contains("crop", note);
            else Assert.Contains("whole photos", note);
            await DashboardBrowserFixture.Shot(page, id == "kfold" ? "try-kfold" : id == "facecrop" ? "try-facecrop" : "try");
        }
    }

    /// <summary>Holds a training after its first epoch (metrics.jsonl already has the line) until the test lets it go on.</summary>
    sealed class PauseAfterFirstEpoch : ITrainingObserver
    {
        public readonly ManualResetEventSlim FirstEpoch = new(), Go = new();

        public void EpochDone(EpochRecord record, bool improved)
        {
            if (record.Epoch != 1) return;
            FirstEpoch.Set();
            Go.Wait(TimeSpan.FromMinutes(2));
        }
    }

    [BrowserFact]
    public async Task ALiveRunsPageShowsANewEpochWithoutAReload()
    {
        var config = RunConfig.Load(null, [$"data={TinySynthetic.Root}", "seed=5", .. DashboardBrowserFixture.Tiny, "epochs=2"]).Validate();
        var observer = new PauseAfterFirstEpoch();
        var training = Task.Run(() => new RunJob(config, new RunDirectory(Path.Combine(fx.Runs, "live")), observer).Run(CancellationToken.None, end: new RunEnd(Predict: false, Report: false)));
        try
        {
            Assert.True(observer.FirstEpoch.Wait(TimeSpan.FromMinutes(2)) || training.IsFaulted, "the first epoch did not finish");
            if (training.IsFaulted) await training;
            var page = await fx.Page();
            await page.GotoAsync(fx.Url + "/run?id=live");
            await page.WaitForSelectorAsync("#epochs-done[data-epochs='1']");
            Assert.Equal("running", await page.GetAttributeAsync("h1 .badge", "data-status"));
            await DashboardBrowserFixture.Shot(page, "live-epoch-1");
            // A mark in the page's own memory: a reload would lose it.
            await page.EvaluateAsync("() => { window.__sameDocument = 42; }");

            observer.Go.Set();
            await page.WaitForSelectorAsync("#epochs-done[data-epochs='2']", new PageWaitForSelectorOptions { Timeout = 120_000 });
            Assert.Equal(42, await page.EvaluateAsync<int>("() => window.__sameDocument"));
            await training;
            await page.WaitForSelectorAsync("h1 .badge[data-status='finished']");
            var points = await page.EvalOnSelectorAllAsync<int>("#curves .uplot", "us => us.length");
            Assert.True(points >= 3);
            await DashboardBrowserFixture.Shot(page, "live-epoch-2");
        }
        finally
        {
            observer.Go.Set();
            try { await training; } catch (Exception) when (training.IsFaulted) { }
        }
    }
}
