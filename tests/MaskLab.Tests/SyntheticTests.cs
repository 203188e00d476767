using System.Diagnostics;
using System.Text.RegularExpressions;
using MaskLab.Data.Loading;
using MaskLab.Synthetic;
using SkiaSharp;

namespace MaskLab.Tests;

/// <summary>A scratch folder per test, removed afterwards.</summary>
public sealed class ScratchDir : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "masklab-synth-tests", Guid.NewGuid().ToString("N"));

    public ScratchDir() => Directory.CreateDirectory(Root);

    public string Sub(string name) => Path.Combine(Root, name);

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

internal static class SynthFiles
{
    public static string[] Lines(string path) => File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();

    /// <summary>Every file under <paramref name="root"/>, relative, sorted, with '/' separators.</summary>
    public static string[] List(string root) => Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
        .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
        .OrderBy(f => f, StringComparer.Ordinal)
        .ToArray();
}

public sealed class SyntheticTests : IDisposable
{
    readonly ScratchDir _dir = new();

    public void Dispose() => _dir.Dispose();

    static readonly SynthOptions Tiny = new(People: 24, EvalPeople: 10, Width: 48, Height: 64, Seed: 7);

    static readonly Regex FolderName = new(@"^(\d{6})_(male|female)_Asian_(\d+)$");
    static readonly Regex EvalName = new(@"^[0-9a-f]{40}\.jpg$");

    [Fact]
    public void Layout_MatchesCompetitionNamesAndFormats()
    {
        var outDir = _dir.Sub("set");
        var report = SyntheticGenerator.Generate(outDir, Tiny);
        Assert.False(report.Reused);
        Assert.Equal(24 * 7, report.TrainPhotos);
        Assert.Equal(10 * 7, report.EvalPhotos);

        Assert.Equal(["eval", "train"], Directory.GetDirectories(outDir).Select(d => Path.GetFileName(d)!).Order().ToArray());
        Assert.True(File.Exists(Path.Combine(outDir, SyntheticGenerator.TruthFile)));
        Assert.True(File.Exists(Path.Combine(outDir, SyntheticGenerator.MarkerFile)));

        // train.csv: id,gender,race,age,path with path = folder under images/
        var csv = SynthFiles.Lines(Path.Combine(outDir, "train", "train.csv"));
        Assert.Equal("id,gender,race,age,path", csv[0]);
        Assert.Equal(24, csv.Length - 1);
        var folders = Directory.GetDirectories(Path.Combine(outDir, "train", "images")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(csv.Skip(1).Select(l => l.Split(',')[4]).Order(StringComparer.Ordinal).ToArray(), folders);
        var stems = new[] { "incorrect_mask", "mask1", "mask2", "mask3", "mask4", "mask5", "normal" };
        foreach (var row in csv.Skip(1))
        {
            var f = row.Split(',');
            Assert.Equal(5, f.Length);
            var m = FolderName.Match(f[4]);
            Assert.True(m.Success, f[4]);
            Assert.Equal(f[0], m.Groups[1].Value);
            Assert.Equal(f[1], m.Groups[2].Value);
            Assert.Equal("Asian", f[2]);
            Assert.Equal(f[3], m.Groups[3].Value);
            Assert.InRange(int.Parse(f[3]), 18, 60);

            var files = Directory.GetFiles(Path.Combine(outDir, "train", "images", f[4])).Select(Path.GetFileName).ToArray();
            var photos = files.Where(n => !n!.StartsWith("._")).ToArray();
            Assert.Equal(stems, photos.Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).ToArray());
            foreach (var photo in photos)
                AssertPicture(Path.Combine(outDir, "train", "images", f[4], photo!), 48, 64);
            foreach (var junk in files.Where(n => n!.StartsWith("._")))
                Assert.Contains(junk![2..], photos);
        }
        Assert.Equal(24, csv.Skip(1).Select(l => l.Split(',')[0]).Distinct().Count());

        // eval: hashed ids, info.csv with ans 0 in a fixed order, answers.csv in the same order
        var evalFiles = Directory.GetFiles(Path.Combine(outDir, "eval", "images")).Select(Path.GetFileName).ToArray();
        Assert.Equal(70, evalFiles.Length);
        Assert.All(evalFiles, n => Assert.Matches(EvalName, n!));
        var info = SynthFiles.Lines(Path.Combine(outDir, "eval", "info.csv"));
        var answers = SynthFiles.Lines(Path.Combine(outDir, "eval", "answers.csv"));
        Assert.Equal("ImageID,ans", info[0]);
        Assert.Equal("ImageID,ans", answers[0]);
        Assert.Equal(evalFiles.Order(StringComparer.Ordinal), info.Skip(1).Select(l => l.Split(',')[0]).Order(StringComparer.Ordinal));
        Assert.All(info.Skip(1), l => Assert.EndsWith(",0", l));
        Assert.Equal(info.Skip(1).Select(l => l.Split(',')[0]), answers.Skip(1).Select(l => l.Split(',')[0]));
        Assert.All(answers.Skip(1), l => Assert.InRange(int.Parse(l.Split(',')[1]), 0, 17));
        // Shuffled: one person's seven photos are not listed together.
        var answerClasses = answers.Skip(1).Select(l => int.Parse(l.Split(',')[1])).ToArray();
        Assert.True(answerClasses.Distinct().Count() > 3);
        AssertPicture(Path.Combine(outDir, "eval", "images", evalFiles[0]!), 48, 64);

        // No partial folder is left beside the set.
        Assert.Equal(["set"], Directory.GetFileSystemEntries(_dir.Root).Select(d => Path.GetFileName(d)!).ToArray());
    }

    static void AssertPicture(string path, int width, int height)
    {
        var bytes = File.ReadAllBytes(path);
        var ext = Path.GetExtension(path);
        if (ext == ".png") Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, bytes[..4]);
        else
        {
            Assert.Contains(ext, new[] { ".jpg", ".jpeg" });
            Assert.Equal(new byte[] { 0xFF, 0xD8 }, bytes[..2]);
        }
        using var bmp = SKBitmap.Decode(bytes);
        Assert.NotNull(bmp);
        Assert.Equal(width, bmp.Width);
        Assert.Equal(height, bmp.Height);
    }

    [Fact]
    public void UniformNoise_FilesStrangersOfEveryOtherClass_LeavingTheFoldersAndTheRestOfTheSetAsTheCompetitionKindDraws()
    {
        var options = Tiny with { People = 60, EvalPeople = 4, LabelNoise = 0.2 };
        var uniform = _dir.Sub("uniform");
        var competition = _dir.Sub("competition");
        var report = SyntheticGenerator.Generate(uniform, options with { NoiseKind = LabelNoiseKind.Uniform });
        SyntheticGenerator.Generate(competition, options);

        var truth = CsvTable.Read(Path.Combine(uniform, "train_truth.csv"), "path", "given_class", "true_class", "true_age", "noise").Rows
            .Select(r => (Path: r.Values[0], Given: int.Parse(r.Values[1]), True: int.Parse(r.Values[2]), Age: int.Parse(r.Values[3]), Noise: r.Values[4])).ToList();
        var wrong = truth.Where(t => t.Given != t.True).ToList();
        Assert.Equal((int)Math.Round(0.2 * 60 * 7), wrong.Count);
        Assert.Equal(wrong.Count, report.NoisyPhotos);
        Assert.All(wrong, t => Assert.Equal("uniform", t.Noise));
        Assert.All(truth.Where(t => t.Given == t.True), t => Assert.Equal("", t.Noise));
        // Any other class: 84 draws over 17 classes reach most of them, and each wrong photo's age is its stranger's band.
        Assert.True(wrong.Select(t => t.True).Distinct().Count() >= 14, $"only {wrong.Select(t => t.True).Distinct().Count()} true classes among the wrong photos");
        Assert.All(wrong, t => Assert.Equal(TaskClasses.AgeOf(t.True), AgeCuts.Scoring.Band(t.Age)));
        // The folders (gender, age) are the competition kind's people without their noise: the same people, drawn alike.
        Assert.Equal(SynthFiles.List(competition).Length, SynthFiles.List(uniform).Length);
        static string Key(string path) => Path.GetFileName(Path.GetDirectoryName(path))![..6] + "/" + Path.GetFileName(path);
        var given = truth.ToDictionary(t => Key(t.Path), t => TaskClasses.Decode(t.Given));
        Assert.All(CsvTable.Read(Path.Combine(competition, "train_truth.csv"), "path", "true_class").Rows, r =>
        {
            var (_, g, a) = TaskClasses.Decode(int.Parse(r.Values[1]));
            Assert.Equal((g, a), (given[Key(r.Values[0])].Gender, given[Key(r.Values[0])].Age));
        });
        // The latent truth and the face boxes describe whoever each photo shows.
        var latent = CsvTable.Read(Path.Combine(uniform, "latent_truth.csv"), "path", "true_class").Rows.ToDictionary(r => r.Values[0], r => int.Parse(r.Values[1]));
        Assert.All(wrong, t => Assert.Equal(t.True, latent[t.Path]));
    }

    [Fact]
    public void SameSeed_GivesByteIdenticalFiles_AndAnotherSeedDiffers()
    {
        var a = _dir.Sub("a");
        var b = _dir.Sub("b");
        var c = _dir.Sub("c");
        SyntheticGenerator.Generate(a, Tiny);
        SyntheticGenerator.Generate(b, Tiny);
        SyntheticGenerator.Generate(c, Tiny with { Seed = 8 });

        var listA = SynthFiles.List(a);
        Assert.Equal(listA, SynthFiles.List(b));
        foreach (var f in listA)
            Assert.True(File.ReadAllBytes(Path.Combine(a, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b, f))), f);

        var listC = SynthFiles.List(c);
        var differs = !listA.SequenceEqual(listC)
            || listA.Any(f => !File.ReadAllBytes(Path.Combine(a, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(c, f))));
        Assert.True(differs);
        Assert.NotEqual(File.ReadAllText(Path.Combine(a, "train", "train.csv")), File.ReadAllText(Path.Combine(c, "train", "train.csv")));
    }

    [Fact]
    public void CompleteSet_IsReusedWithoutWork_AndOtherContentIsRefused()
    {
        var outDir = _dir.Sub("set");
        Assert.False(SyntheticGenerator.IsComplete(outDir, Tiny));
        var first = SyntheticGenerator.Generate(outDir, Tiny);
        Assert.True(SyntheticGenerator.IsComplete(outDir, Tiny));
        Assert.False(SyntheticGenerator.IsComplete(outDir, Tiny with { Seed = 8 }));

        var stamps = SynthFiles.List(outDir).ToDictionary(f => f, f => File.GetLastWriteTimeUtc(Path.Combine(outDir, f)));
        var reported = 0;
        var second = SyntheticGenerator.Generate(outDir, Tiny, new Counter(n => reported = n));
        Assert.True(second.Reused);
        Assert.Equal(0, reported);
        Assert.Equal(first.Photos, second.Photos);
        Assert.Equal(first.NoisyPhotos, second.NoisyPhotos);
        Assert.All(stamps, kv => Assert.Equal(kv.Value, File.GetLastWriteTimeUtc(Path.Combine(outDir, kv.Key))));

        var other = Assert.Throws<MaskLabInputException>(() => SyntheticGenerator.Generate(outDir, Tiny with { Seed = 8 }));
        Assert.Contains(outDir, other.Message);

        var foreign = _dir.Sub("foreign");
        Directory.CreateDirectory(foreign);
        File.WriteAllText(Path.Combine(foreign, "notes.txt"), "mine");
        var e = Assert.Throws<MaskLabInputException>(() => SyntheticGenerator.Generate(foreign, Tiny));
        Assert.Contains(foreign, e.Message);
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(foreign).Select(d => Path.GetFileName(d)!).ToArray());

        // An empty folder is fine to fill.
        var empty = _dir.Sub("empty");
        Directory.CreateDirectory(empty);
        Assert.False(SyntheticGenerator.Generate(empty, Tiny with { People = 2, EvalPeople = 1 }).Reused);
    }

    [Fact]
    public void CancelledRun_LeavesNoSetAndNoPartialFolder()
    {
        var outDir = _dir.Sub("set");
        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            SyntheticGenerator.Generate(outDir, Tiny with { People = 200 }, new Counter(_ => cts.Cancel()), cts.Token));
        Assert.False(Directory.Exists(outDir));
        Assert.False(SyntheticGenerator.IsComplete(outDir, Tiny with { People = 200 }));
        Assert.Empty(Directory.GetFileSystemEntries(_dir.Root));
    }

    [Fact]
    public void PartialFolderOfADeadRun_IsCleanedUp()
    {
        var outDir = _dir.Sub("set");
        // A pid far above any the kernel hands out stands for a run that was killed.
        var stale = _dir.Sub(".set.partial-2147483000");
        Directory.CreateDirectory(Path.Combine(stale, "train"));
        File.WriteAllText(Path.Combine(stale, "train", "train.csv"), "id,gender,race,age,path\n");
        SyntheticGenerator.Generate(outDir, Tiny with { People = 2, EvalPeople = 1 });
        Assert.False(Directory.Exists(stale));
        Assert.True(SyntheticGenerator.IsComplete(outDir, Tiny with { People = 2, EvalPeople = 1 }));
    }

    [Fact]
    public void BadOptions_AreInputErrorsNamingTheValue()
    {
        Assert.Contains("-1", Assert.Throws<MaskLabInputException>(() => SyntheticGenerator.Generate(_dir.Sub("x"), Tiny with { People = -1 })).Message);
        Assert.Contains("4x64", Assert.Throws<MaskLabInputException>(() => SyntheticGenerator.Generate(_dir.Sub("x"), Tiny with { Width = 4 })).Message);
        Assert.Throws<MaskLabInputException>(() => SyntheticGenerator.Generate(_dir.Sub("x"), Tiny with { LabelNoise = 0.9 }));
        Assert.Throws<MaskLabInputException>(() => SyntheticGenerator.Generate(_dir.Sub("x"), Tiny with { JpegQuality = 0 }));
        Assert.False(Directory.Exists(_dir.Sub("x")));
    }

    [Theory]
    [InlineData("384x512", 384, 512)]
    [InlineData("96X128", 96, 128)]
    [InlineData(" 48 x 64 ", 48, 64)]
    public void ImageSize_Parses(string text, int w, int h) => Assert.Equal(new ImageSize(w, h), ImageSize.Parse(text));

    [Theory]
    [InlineData("abc")]
    [InlineData("0x5")]
    [InlineData("5x0")]
    [InlineData("-3x4")]
    [InlineData("12x")]
    [InlineData("1x2x3")]
    [InlineData("")]
    public void ImageSize_RejectsBadText(string text)
    {
        var e = Assert.Throws<MaskLabInputException>(() => ImageSize.Parse(text));
        Assert.Contains($"'{text}'", e.Message);
    }

    [Fact]
    public void Preview_WritesAContactSheet()
    {
        var png = _dir.Sub("sheet.png");
        SyntheticGenerator.RenderPreview(png, seed: 1, cellWidth: 24, cellHeight: 32, ages: [20, 60]);
        using var bmp = SKBitmap.Decode(png);
        Assert.Equal(24 * 4, bmp.Width);
        Assert.Equal(32 * 4, bmp.Height);
    }

    [Theory]
    [InlineData("--size abc", "abc")]
    [InlineData("--size 0x5", "0x5")]
    [InlineData("--people -3", "-3")]
    [InlineData("--eval-people -1", "-1")]
    public void Cli_BadArguments_ExitTwoWithOneLine(string extra, string named)
    {
        var (code, stdout, stderr) = RunCli($"synth --out {_dir.Sub("cli")} {extra}");
        Assert.Equal(2, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("masklab: error:", line);
        Assert.Contains(named, line);
        Assert.Equal("", stdout);
        Assert.False(Directory.Exists(_dir.Sub("cli")));
    }

    [Fact]
    public void Cli_WritesSetAndSummary()
    {
        var outDir = _dir.Sub("cli");
        var (code, stdout, _) = RunCli($"synth --out {outDir} --people 3 --eval-people 2 --size 32x48 --seed 5");
        Assert.Equal(0, code);
        Assert.Contains("3 train and 2 eval people, 35 photos", stdout);
        Assert.Contains(outDir, stdout);
        Assert.True(SyntheticGenerator.IsComplete(outDir, new SynthOptions(3, 2, 32, 48, 5)));
    }

    static (int Code, string Stdout, string Stderr) RunCli(string args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "MaskLab.Cli.dll");
        var psi = new ProcessStartInfo("dotnet", $"\"{dll}\" {args}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }
}

/// <summary>Reports on the calling thread, unlike <see cref="Progress{T}"/>.</summary>
internal sealed class Counter(Action<int> onReport) : IProgress<int>
{
    public void Report(int value) => onReport(value);
}
