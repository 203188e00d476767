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

    [Fact]
    public void Confusion_and_per_class_files_read_back_through_the_csv_owner()
    {
        var confusion = Path.Combine(_dir, "confusion.csv");
        var perClass = Path.Combine(_dir, "per_class.csv");
        ConfusionCsv.Write(confusion, Report());
        PerClassCsv.Write(perClass, Report());

        var (matrix, names) = ConfusionCsv.Read(confusion);
        Assert.Equal(["cat", "dog, big", "bird"], names);
        Assert.Equal(1, matrix![0, 1]);
        Assert.Equal(1, matrix[2, 0]);
        Assert.Equal(0, matrix[2, 2]);
        var rows = PerClassCsv.Read(perClass);
        Assert.Equal(("dog, big", 1L), (rows[1].Name, rows[1].Support));
        Assert.Equal(2.0 / 3, rows[1].F1, 12);

        var table = CsvTable.ReadAll(confusion);
        Assert.Equal(["truth", "cat", "dog, big", "bird"], table.Columns);
        Assert.Equal(2, table.IndexOf("DOG, BIG"));
        Assert.Equal(-1, table.IndexOf("fish"));
        Assert.Equal(3, table.Rows[1].Line);
    }

    [Fact]
    public void A_damaged_confusion_file_is_a_one_line_error_naming_it()
    {
        var path = Path.Combine(_dir, "confusion.csv");
        File.WriteAllText(path, "truth,cat,dog\ncat,1,x\n");
        var e = Assert.Throws<MaskLabInputException>(() => ConfusionCsv.Read(path));
        Assert.Contains(path, e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }
}
