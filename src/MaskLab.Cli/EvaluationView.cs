using System.Globalization;
using MaskLab.Evaluation;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace MaskLab.Cli;

/// <summary>
/// Terminal rendering of an <see cref="EvaluationReport"/>, shared by <c>score</c>, <c>eval</c> and <c>train</c>.
/// </summary>
public static class EvaluationView
{
    /// <summary>Writes the summary, the per-class table and the confusion matrix.</summary>
    public static void Write(EvaluationReport report, IAnsiConsole? console = null, string? title = null)
    {
        console ??= AnsiConsole.Console;
        console.Write(Summary(report, title));
        console.Write(PerClass(report));
        var first = true;
        foreach (var table in Confusion(report, console.Profile.Width))
        {
            if (!first) console.WriteLine();
            console.Write(table);
            first = false;
        }
    }

    /// <summary>Macro F1, accuracy, per-attribute F1 (task classes only) and counts.</summary>
    public static Table Summary(EvaluationReport report, string? title = null)
    {
        var table = new Table().RoundedBorder().HideHeaders();
        if (title is not null) table.Title(Markup.Escape(title));
        table.AddColumn("metric");
        table.AddColumn(new TableColumn("value").RightAligned());
        table.AddRow(new Markup("[bold]macro F1[/]"), new Markup($"[bold]{F(report.MacroF1)}[/]"));
        table.AddRow("accuracy", F(report.Accuracy));
        if (report.HasAttributes)
        {
            table.AddRow("mask F1", F(report.MaskF1!.Value));
            table.AddRow("gender F1", F(report.GenderF1!.Value));
            table.AddRow("age F1", F(report.AgeF1!.Value));
        }
        table.AddRow("images", report.Samples.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("classes scored", $"{report.PresentClasses} of {report.ClassCount}");
        return table;
    }

    /// <summary>
    /// Precision, recall, F1, support and predicted count per class. Short headers and a minimal border keep the
    /// longest task class name on one line in 80 columns.
    /// </summary>
    public static Table PerClass(EvaluationReport report)
    {
        var table = new Table().MinimalBorder();
        table.AddColumn(new TableColumn("#").RightAligned());
        table.AddColumn(new TableColumn("class").NoWrap());
        foreach (var h in new[] { "prec.", "recall", "F1", "support", "pred." })
            table.AddColumn(new TableColumn(h).RightAligned());
        var anyAbsent = false;
        foreach (var s in report.PerClass)
        {
            var name = Markup.Escape(report.ClassNames[s.Class]);
            if (!s.Present)
            {
                anyAbsent = true;
                table.AddRow(new Markup($"[dim]{s.Class}[/]"), new Markup($"[dim]{name}[/]"),
                    Dim("-"), Dim("-"), Dim("-"), Dim("0"), Dim("0"));
                continue;
            }
            table.AddRow(
                new Text(s.Class.ToString(CultureInfo.InvariantCulture)),
                new Markup(name),
                new Text(F(s.Precision)),
                new Text(F(s.Recall)),
                new Markup($"[{F1Colour(s.F1)}]{F(s.F1)}[/]"),
                new Text(s.Support.ToString(CultureInfo.InvariantCulture)),
                new Text(s.Predicted.ToString(CultureInfo.InvariantCulture)));
        }
        if (anyAbsent) table.Caption("[dim]- : in neither truth nor predictions, left out of the macro F1[/]");
        return table;
    }

    /// <summary>
    /// The confusion matrix (rows truth, columns predicted, headed by class number), split into several tables
    /// when all columns would not fit in <paramref name="width"/> characters, so cells never wrap.
    /// </summary>
    public static IReadOnlyList<Table> Confusion(EvaluationReport report, int width)
    {
        var n = report.ClassCount;
        long max = 0;
        foreach (var v in report.Confusion) max = Math.Max(max, v);
        var cellWidth = Math.Max(Digits(max), Digits(n - 1)) + 1;
        var labels = Enumerable.Range(0, n).Select(t => $"{t,2} {report.ClassNames[t]}").ToArray();
        const string corner = "truth \\ pred";
        var labelWidth = Math.Max(corner.Length, labels.Max(l => l.Length)) + 2;
        var fit = Math.Clamp((width - labelWidth - 1) / cellWidth, 1, n);
        // Even chunks (9 + 9 rather than 16 + 2) read better.
        var chunks = (n + fit - 1) / fit;
        var perTable = (n + chunks - 1) / chunks;

        var tables = new List<Table>();
        for (var start = 0; start < n; start += perTable)
        {
            var end = Math.Min(n, start + perTable);
            var table = new Table().NoBorder();
            // A title is as wide as its table at most: only the first chunk carries it.
            if (start == 0) table.Title("confusion (rows truth, columns predicted)");
            table.AddColumn(new TableColumn(Markup.Escape(corner)).NoWrap().PadLeft(0).PadRight(2));
            for (var p = start; p < end; p++)
                table.AddColumn(new TableColumn(p.ToString(CultureInfo.InvariantCulture)).RightAligned().NoWrap().PadLeft(0).PadRight(1));
            for (var t = 0; t < n; t++)
            {
                var row = new List<IRenderable> { new Text(labels[t]) };
                for (var p = start; p < end; p++)
                {
                    var v = report.Confusion[t, p];
                    var s = v.ToString(CultureInfo.InvariantCulture);
                    row.Add(v == 0 ? Dim(".") : t == p ? new Markup($"[bold green]{s}[/]") : new Markup($"[yellow]{s}[/]"));
                }
                table.AddRow(row);
            }
            tables.Add(table);
        }
        return tables;
    }

    static string F(double v) => v.ToString("0.0000", CultureInfo.InvariantCulture);

    static string F1Colour(double f1) => f1 >= 0.8 ? "green" : f1 >= 0.5 ? "yellow" : "red";

    static Markup Dim(string s) => new($"[dim]{Markup.Escape(s)}[/]");

    static int Digits(long v) => v < 10 ? 1 : (int)Math.Floor(Math.Log10(v)) + 1;
}
