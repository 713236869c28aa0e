using ScottPlot;

namespace PopSteer.Cli.Plotting;

/// <summary>
/// The fairness-accuracy picture of `sweep` and `compare`: two panels side by side, NDCG@10 against Gini@10
/// (left: up and to the left is better) and NDCG@10 against tail coverage@10 (right: up and to the right is
/// better), every series in both, one legend. Series with a front get it as a dashed staircase on the Gini panel.
/// </summary>
public static class TradeoffPlot
{
    public const int Width = 1700;
    public const int Height = 720;

    private static readonly MarkerShape[] Shapes =
    [
        MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond,
        MarkerShape.FilledTriangleDown, MarkerShape.OpenCircle, MarkerShape.OpenSquare, MarkerShape.Cross,
    ];

    public static void Save(string pngPath, IReadOnlyList<TradeoffSeries> series, string title)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pngPath);
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0 || series.All(s => s.Points.Count == 0))
            throw new ArgumentException("Nothing to plot: every series is empty.", nameof(series));
        string? directory = Path.GetDirectoryName(Path.GetFullPath(pngPath));
        if (directory is not null) Directory.CreateDirectory(directory);

        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var gini = multiplot.GetPlot(0);
        var tail = multiplot.GetPlot(1);

        var palette = new ScottPlot.Palettes.Category10();
        // Single reference points (SASRec, SAE) go last so no curve or grid marker hides them.
        var order = Enumerable.Range(0, series.Count).OrderBy(i => series[i].Points.Count == 1 ? 1 : 0).ThenBy(i => i);
        foreach (int s in order)
        {
            var item = series[s];
            if (item.Points.Count == 0) continue;
            var color = palette.GetColor(s);
            var shape = Shapes[s % Shapes.Length];
            AddSeries(gini, item, item.Points.Select(p => p.Gini).ToArray(), color, shape, legend: false);
            if (item.Front is { Count: > 0 } front) AddFront(gini, front, color);
            AddSeries(tail, item, item.Points.Select(p => p.TailCoverage).ToArray(), color, shape, legend: true);
        }

        Style(gini, $"{title}: NDCG@10 vs Gini@10 (up-left is better)", "Gini@10 of recommendations (lower = less concentrated)");
        Style(tail, $"{title}: NDCG@10 vs tail coverage@10 (up-right is better)", "Tail coverage@10 (share of tail items ever recommended)");
        tail.ShowLegend(Edge.Right);
        multiplot.SavePng(pngPath, Width, Height);
    }

    private static void AddSeries(Plot plot, TradeoffSeries item, double[] xs, ScottPlot.Color color, MarkerShape shape, bool legend)
    {
        double[] ys = item.Points.Select(p => p.Ndcg).ToArray();
        var scatter = plot.Add.Scatter(xs, ys, color);
        scatter.MarkerShape = shape;
        scatter.MarkerSize = item.Points.Count == 1 ? 14 : item.IsCurve ? 8 : 9;
        scatter.LineWidth = item.IsCurve ? 2 : 0;
        if (legend) scatter.LegendText = item.IsCurve ? $"{item.Name} (curve)" : item.Points.Count > 1 ? $"{item.Name} (grid)" : item.Name;

        // Curves carry their knob value next to each point; grids would be unreadable with 15 labels each.
        if (!item.IsCurve) return;
        for (int i = 0; i < xs.Length; i++)
        {
            var text = plot.Add.Text(item.Points[i].Label, xs[i], ys[i]);
            text.LabelFontSize = 11;
            text.LabelFontColor = color;
            text.OffsetX = 6;
            text.OffsetY = -4;
        }
    }

    /// <summary>The front as the staircase it dominates: from each point right along its NDCG to the next point's Gini.</summary>
    private static void AddFront(Plot plot, IReadOnlyList<TradeoffPoint> front, ScottPlot.Color color)
    {
        var ordered = front.OrderBy(p => p.Gini).ToList();
        var xs = new List<double>();
        var ys = new List<double>();
        for (int i = 0; i < ordered.Count; i++)
        {
            xs.Add(ordered[i].Gini);
            ys.Add(ordered[i].Ndcg);
            if (i + 1 < ordered.Count) { xs.Add(ordered[i + 1].Gini); ys.Add(ordered[i].Ndcg); }
        }
        var line = plot.Add.ScatterLine(xs.ToArray(), ys.ToArray(), color);
        line.LineWidth = 1.5f;
        line.LinePattern = LinePattern.Dashed;
    }

    private static void Style(Plot plot, string title, string xLabel)
    {
        plot.Font.Set(Fonts.Sans);
        plot.Title(title, 14);
        plot.XLabel(xLabel, 13);
        plot.YLabel("NDCG@10 (higher = more accurate)", 13);
        // Room on the right for the labels of the outermost curve points.
        plot.Axes.Margins(left: 0.05, right: 0.12, bottom: 0.08, top: 0.08);
    }
}
