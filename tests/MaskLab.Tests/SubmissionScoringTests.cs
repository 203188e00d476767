using MaskLab.Data.Layout;
using MaskLab.Evaluation;

namespace MaskLab.Tests;

public sealed class SubmissionScoringTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("masklab-scoring-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly string[] Ids = ["e1.jpg", "e2.jpg", "e3.jpg", "e4.jpg"];
    static readonly int[] TruthAnswers = [0, 4, 7, 14];
    static readonly int[] PredAnswers = [0, 3, 13, 17];

    string Csv(string name, IEnumerable<(string Id, int Ans)> rows)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, "ImageID,ans\n" + string.Concat(rows.Select(r => $"{r.Id},{r.Ans}\n")));
        return path;
    }

    string Truth() => Csv("answers.csv", Ids.Zip(TruthAnswers));

    [Fact]
    public void Score_matches_evaluate_on_the_same_labels()
    {
        var report = Scoring.Score(Csv("pred.csv", Ids.Zip(PredAnswers)), Truth());
        var expected = Metrics.Evaluate(TruthAnswers, PredAnswers, TaskClasses.Names, taskClasses: true);
        Assert.Equal(expected.MacroF1, report.MacroF1);
        Assert.Equal(expected.Accuracy, report.Accuracy);
        Assert.Equal(expected.MaskF1, report.MaskF1);
        Assert.Equal(expected.GenderF1, report.GenderF1);
        Assert.Equal(expected.AgeF1, report.AgeF1);
        Assert.Equal(expected.Confusion, report.Confusion);
    }

    [Fact]
    public void Score_ignores_row_order()
    {
        var inOrder = Scoring.Score(Csv("a.csv", Ids.Zip(PredAnswers)), Truth());
        var shuffled = Scoring.Score(Csv("b.csv", Ids.Zip(PredAnswers).Reverse()), Truth());
        Assert.Equal(inOrder.MacroF1, shuffled.MacroF1);
        Assert.Equal(inOrder.Accuracy, shuffled.Accuracy);
        Assert.Equal(inOrder.Confusion, shuffled.Confusion);
    }

    [Fact]
    public void Score_of_the_truth_itself_is_perfect()
    {
        var truth = Truth();
        var report = Scoring.Score(truth, truth);
        Assert.Equal(1.0, report.MacroF1);
        Assert.Equal(1.0, report.Accuracy);
    }

    [Fact]
    public void Missing_ids_are_counted_and_named()
    {
        var pred = Csv("pred.csv", Ids.Zip(PredAnswers).Take(1));
        var e = Assert.Throws<MaskLabInputException>(() => Scoring.Score(pred, Truth()));
        Assert.Contains($"'{pred}'", e.Message);
        Assert.Contains("3 ImageID(s)", e.Message);
        Assert.Contains("e2.jpg, e3.jpg, e4.jpg", e.Message);
    }

    [Fact]
    public void Unknown_ids_are_counted_and_named()
    {
        var pred = Csv("pred.csv", Ids.Zip(PredAnswers).Append(("stranger.jpg", 1)));
        var e = Assert.Throws<MaskLabInputException>(() => Scoring.Score(pred, Truth()));
        Assert.Contains("1 ImageID(s) are not in", e.Message);
        Assert.Contains("stranger.jpg", e.Message);
    }

    [Fact]
    public void Long_id_lists_are_cut_short()
    {
        var many = Enumerable.Range(0, 12).Select(i => ($"t{i:00}.jpg", i % 18)).ToArray();
        var truth = Csv("truth.csv", many);
        var pred = Csv("pred.csv", many.Take(2));
        var e = Assert.Throws<MaskLabInputException>(() => Scoring.Score(pred, truth));
        Assert.Contains("10 ImageID(s)", e.Message);
        Assert.Contains("t02.jpg, t03.jpg, t04.jpg, t05.jpg, t06.jpg, ...", e.Message);
        Assert.DoesNotContain("t07.jpg", e.Message);
    }

    [Fact]
    public void Bad_truth_file_is_named_as_truth()
    {
        var truth = Path.Combine(_dir, "missing-answers.csv");
        var e = Assert.Throws<MaskLabInputException>(() => Scoring.Score(Csv("pred.csv", Ids.Zip(PredAnswers)), truth));
        Assert.Equal($"truth file '{truth}' does not exist", e.Message);
        var empty = Csv("empty.csv", []);
        e = Assert.Throws<MaskLabInputException>(() => Scoring.Score(empty, empty));
        Assert.Contains("has no rows", e.Message);
    }
}
