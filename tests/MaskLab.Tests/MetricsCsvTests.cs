using MaskLab.Evaluation;

namespace MaskLab.Tests;

public sealed class MetricsCsvTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("masklab-metrics-csv-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static EvaluationReport Report() =>
        Metrics.Evaluate([0, 0, 1, 2], [0, 1, 1, 0], ["cat", "dog, big", "bird"], taskClasses: false);

    [Fact]
    public void Confusion_csv_has_class_name_header_and_truth_name_column()
    {
        var path = Path.Combine(_dir, "confusion.csv");
        ConfusionCsv.Write(path, Report());
        Assert.Equal(
            "truth,cat,\"dog, big\",bird\n" +
            "cat,1,1,0\n" +
            "\"dog, big\",0,1,0\n" +
            "bird,1,0,0\n",
            File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Per_class_csv_lists_every_class()
    {
        var path = Path.Combine(_dir, "sub", "per_class.csv");
        PerClassCsv.Write(path, Report());
        var lines = File.ReadAllLines(path);
        Assert.Equal("class,name,precision,recall,f1,support,predicted", lines[0]);
        // cat: tp 1, predicted 2 (cat and bird rows), support 2 -> P 0.5, R 0.5, F1 0.5
        Assert.Equal("0,cat,0.5,0.5,0.5,2,2", lines[1]);
        // bird: support 1, never predicted -> zeros
        Assert.Equal("2,bird,0,0,0,1,0", lines[3]);
        Assert.Equal(4, lines.Length);
    }
}
