using ScottPlot;

namespace MaskLab.Tracking;

/// <summary>The report's pictures, drawn with ScottPlot and returned as PNG bytes.</summary>
internal static class ReportPlots
{
    public const int Width = 640, Height = 400;

    /// <summary>One line per named series over epochs.</summary>
    public static byte[] Curves(string title, string yLabel, IEnumerable<(string Name, double[] X, double[] Y)> series, bool logY = false)
    {
        var plt = new Plot();
        int n = 0;
        foreach (var (name, x, y) in series)
        {
            if (x.Length == 0) continue;
            var s = plt.Add.Scatter(x, logY ? y.Select(v => Math.Log10(Math.Max(v, 1e-12))).ToArray() : y);
            s.LegendText = name;
            s.MarkerSize = x.Length > 30 ? 0 : 5;
            s.LineWidth = 2;
            n++;
        }
        plt.Title(title);
        plt.XLabel("epoch");
        plt.YLabel(logY ? yLabel + " (log10)" : yLabel);
        if (n > 1) plt.ShowLegend(Alignment.UpperRight);
        plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        return plt.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>Counts as a heat map, rows = truth, columns = prediction, each cell labelled with its count.</summary>
    public static byte[] ConfusionHeatmap(long[,] cm, IReadOnlyList<string> names, int size = 900)
    {
        int n = cm.GetLength(0);
        var data = new double[n, n];
        for (var t = 0; t < n; t++)
        {
            long rowSum = 0;
            for (var p = 0; p < n; p++) rowSum += cm[t, p];
            // Colour by the share of the true class so rare classes are as visible as common ones.
            for (var p = 0; p < n; p++) data[t, p] = rowSum > 0 ? (double)cm[t, p] / rowSum : 0;
        }
        var plt = new Plot();
        var hm = plt.Add.Heatmap(data);
        hm.Colormap = new ScottPlot.Colormaps.Viridis();
        hm.Extent = new CoordinateRect(-0.5, n - 0.5, -0.5, n - 0.5);
        var bar = plt.Add.ColorBar(hm);
        bar.Label = "share of the true class";
        for (var t = 0; t < n; t++)
            for (var p = 0; p < n; p++)
            {
                if (cm[t, p] == 0) continue;
                var txt = plt.Add.Text(cm[t, p].ToString(System.Globalization.CultureInfo.InvariantCulture), p, n - 1 - t);
                txt.LabelFontSize = n > 12 ? 10 : 13;
                txt.LabelAlignment = Alignment.MiddleCenter;
                txt.LabelFontColor = data[t, p] > 0.5 ? Colors.Black : Colors.White;
            }
        var positions = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, names.ToArray());
        plt.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions.Select(p => n - 1 - p).ToArray(), names.ToArray());
        plt.Axes.Bottom.TickLabelStyle.Rotation = -50;
        plt.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        plt.Axes.Bottom.MinimumSize = 170;
        plt.Axes.Left.MinimumSize = 170;
        plt.XLabel("predicted");
        plt.YLabel("true");
        plt.Title("Confusion matrix (best epoch)");
        plt.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        return plt.GetImageBytes(size, size, ImageFormat.Png);
    }

    /// <summary>Horizontal bars, one per label, values in [0, 1].</summary>
    public static byte[] Bars(string title, IReadOnlyList<string> labels, IReadOnlyList<double> values, int height = 0)
    {
        int n = labels.Count;
        var plt = new Plot();
        var bars = plt.Add.Bars(values.ToArray());
        bars.Horizontal = true;
        for (var i = 0; i < n; i++)
        {
            bars.Bars[i].Position = n - 1 - i;
            bars.Bars[i].Label = values[i].ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
        }
        bars.ValueLabelStyle.FontSize = 11;
        var positions = Enumerable.Range(0, n).Select(i => (double)(n - 1 - i)).ToArray();
        plt.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, labels.ToArray());
        plt.Axes.Left.MinimumSize = 170;
        plt.Axes.SetLimitsX(0, 1.1);
        plt.Axes.SetLimitsY(-0.6, n - 0.4);
        plt.XLabel("F1");
        plt.Title(title);
        return plt.GetImageBytes(Width, height > 0 ? height : Math.Max(220, 60 + 26 * n), ImageFormat.Png);
    }

    /// <summary>One column of dots per group: the score of each seed, with the mean as a bar.</summary>
    public static byte[] Strip(string title, IReadOnlyList<(string Name, IReadOnlyList<double> Scores)> groups)
    {
        var plt = new Plot();
        for (var g = 0; g < groups.Count; g++)
        {
            var ys = groups[g].Scores.ToArray();
            var xs = ys.Select((_, i) => g + (ys.Length > 1 ? (i - (ys.Length - 1) / 2.0) * 0.08 : 0)).ToArray();
            var s = plt.Add.ScatterPoints(xs, ys);
            s.MarkerSize = 9;
            s.Color = Colors.SteelBlue;
            var mean = plt.Add.Line(g - 0.25, ys.Average(), g + 0.25, ys.Average());
            mean.LineWidth = 2;
            mean.Color = Colors.Black;
        }
        plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, groups.Count).Select(i => (double)i).ToArray(), groups.Select(g => g.Name).ToArray());
        plt.Axes.Bottom.TickLabelStyle.Rotation = groups.Count > 3 ? -30 : 0;
        plt.Axes.Bottom.TickLabelStyle.Alignment = groups.Count > 3 ? Alignment.MiddleRight : Alignment.UpperCenter;
        plt.Axes.SetLimitsX(-0.6, groups.Count - 0.4);
        plt.YLabel("best val macro F1");
        plt.Title(title);
        return plt.GetImageBytes(Math.Max(Width, 140 * groups.Count), Height + (groups.Count > 3 ? 100 : 0), ImageFormat.Png);
    }
}
