using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Text.Json.Nodes;
using MaskLab.Data.Layout;
using MaskLab.Evaluation;
using Spectre.Console;

namespace MaskLab.Tests;

/// <summary>Tests that swap the process's console run one at a time, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CliConsoleCollection
{
    public const string Name = "CLI console";
}

public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string LastStdoutLine => Stdout.TrimEnd('\n', '\r').Split('\n')[^1].TrimEnd('\r');
}

/// <summary>
/// Runs the real <c>masklab</c> entry point (Program.cs, error handling included) in this process with stdout,
/// stderr and Spectre's console captured. Use it only from tests in <see cref="CliConsoleCollection"/>.
/// </summary>
public static class CliHarness
{
    public static CliResult Run(params string[] args)
    {
        var entry = typeof(MaskLab.Cli.Cli).Assembly.EntryPoint
                    ?? throw new InvalidOperationException("MaskLab.Cli has no entry point");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var (oldOut, oldErr, oldAnsi) = (Console.Out, Console.Error, AnsiConsole.Console);
        var ansi = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(stdout),
        });
        ansi.Profile.Width = 200;
        Console.SetOut(stdout);
        Console.SetError(stderr);
        AnsiConsole.Console = ansi;
        try
        {
            var code = (int)entry.Invoke(null, [args])!;
            return new CliResult(code, stdout.ToString(), stderr.ToString());
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
            AnsiConsole.Console = oldAnsi;
        }
    }
}

[Collection(CliConsoleCollection.Name)]
public sealed class ScoreCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("masklab-score-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly string[] Ids = ["e1.jpg", "e2.jpg", "e3.jpg", "e4.jpg", "e5.jpg"];
    static readonly int[] TruthAnswers = [0, 4, 7, 14, 9];
    static readonly int[] PredAnswers = [0, 3, 13, 17, 9];

    (string Pred, string Truth) Files()
    {
        var truth = Path.Combine(_dir, "answers.csv");
        var pred = Path.Combine(_dir, "pred.csv");
        Submission.Write(truth, Ids, TruthAnswers);
        Submission.Write(pred, Ids.Reverse().ToArray(), PredAnswers.Reverse().ToArray());
        return (pred, truth);
    }

    [Fact]
    public void Json_is_the_last_stdout_line_and_matches_the_library()
    {
        var (pred, truth) = Files();
        var r = CliHarness.Run("score", "--pred", pred, "--truth", truth, "--json");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);

        var json = JsonNode.Parse(r.LastStdoutLine)!.AsObject();
        var expected = Metrics.Evaluate(TruthAnswers, PredAnswers, TaskClasses.Names, taskClasses: true);
        Assert.Equal(expected.MacroF1, (double)json["macro_f1"]!, 12);
        Assert.Equal(expected.Accuracy, (double)json["accuracy"]!, 12);
        Assert.Equal(expected.MaskF1!.Value, (double)json["mask_f1"]!, 12);
        Assert.Equal(expected.GenderF1!.Value, (double)json["gender_f1"]!, 12);
        Assert.Equal(expected.AgeF1!.Value, (double)json["age_f1"]!, 12);
        Assert.Equal(5, (int)json["samples"]!);
    }

    [Fact]
    public void Tables_show_the_scores_and_class_names()
    {
        var (pred, truth) = Files();
        var r = CliHarness.Run("score", "--pred", pred, "--truth", truth);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("macro F1", r.Stdout);
        Assert.Contains("gender F1", r.Stdout);
        Assert.Contains("incorrect / female / <30", r.Stdout);
        Assert.Contains("confusion", r.Stdout);
        Assert.DoesNotContain("{", r.Stdout);
    }

    [Fact]
    public void Missing_file_exits_2_with_one_line_naming_it()
    {
        var (_, truth) = Files();
        var missing = Path.Combine(_dir, "no-such.csv");
        var r = CliHarness.Run("score", "--pred", missing, "--truth", truth, "--json");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        var line = Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains(missing, line);
    }

    [Fact]
    public void Bad_csv_exits_2()
    {
        var (_, truth) = Files();
        var bad = Path.Combine(_dir, "bad.csv");
        File.WriteAllText(bad, "ImageID,ans\ne1.jpg,18\n");
        var r = CliHarness.Run("score", "--pred", bad, "--truth", truth);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("bad.csv' line 2", r.Stderr);
    }

    [Fact]
    public void Missing_option_exits_2()
    {
        var (pred, _) = Files();
        var r = CliHarness.Run("score", "--pred", pred);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--truth", r.Stderr);
    }
}
