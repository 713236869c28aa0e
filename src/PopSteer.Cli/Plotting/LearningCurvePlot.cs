using PopSteer.Core.Training;
using ScottPlot;

namespace PopSteer.Cli.Plotting;

/// <summary>
/// `fit --curve-plot`: SASRec's and the SAE's learning curves side by side, each against wall time (seconds since the
/// stage began) with the training loss on the left axis and the validation metric on the right (NDCG@10, FVU).
/// The kept epoch is marked.
/// </summary>
public static class LearningCurvePlot
{
    public const int Width = 1600;
    public const int Height = 600;

    /// <param name="sasRec">SASRec's curve (may be empty when only the SAE was trained).</param>
    /// <param name="sae">The SAE's curve (may be empty).</param>
    public static void Save(string pngPath, IReadOnlyList<LearningCurve.Point> sasRec, IReadOnlyList<LearningCurve.Point> sae, string title)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pngPath);
        if (sasRec.Count == 0 && sae.Count == 0) throw new ArgumentException("Nothing to plot: both learning curves are empty.");
        string? directory = Path.GetDirectoryName(Path.GetFullPath(pngPath));
        if (directory is not null) Directory.CreateDirectory(directory);

        var panels = new List<(IReadOnlyList<LearningCurve.Point> Points, string Name, string Metric, bool HigherIsBetter)>();
        if (sasRec.Count > 0) panels.Add((sasRec, "SASRec", "validation NDCG@10", true));
        if (sae.Count > 0) panels.Add((sae, "SAE", "validation FVU", false));
        var multiplot = new Multiplot();
        multiplot.AddPlots(panels.Count);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        for (int i = 0; i < panels.Count; i++) Panel(multiplot.GetPlot(i), panels[i].Points, $"{title}: {panels[i].Name}", panels[i].Metric, panels[i].HigherIsBetter);
        multiplot.SavePng(pngPath, Width, Height);
    }

    private static void Panel(Plot plot, IReadOnlyList<LearningCurve.Point> points, string title, string metric, bool higherIsBetter)
    {
        var palette = new ScottPlot.Palettes.Category10();
        double[] time = points.Select(p => p.ElapsedSeconds).ToArray();
        var loss = plot.Add.Scatter(time, points.Select(p => p.Loss).ToArray(), palette.GetColor(0));
        loss.LegendText = "training loss (left axis)";
        loss.MarkerSize = 4;
        var value = plot.Add.Scatter(time, points.Select(p => p.Metric).ToArray(), palette.GetColor(1));
        value.LegendText = $"{metric} (right axis)";
        value.MarkerSize = 4;
        value.Axes.YAxis = plot.Axes.Right;

        var kept = higherIsBetter ? points.MaxBy(p => p.Metric)! : points.MinBy(p => p.Metric)!;
        var mark = plot.Add.Marker(kept.ElapsedSeconds, kept.Metric, MarkerShape.OpenCircle, 16, palette.GetColor(3));
        mark.LegendText = $"kept: epoch {kept.Epoch} ({kept.Metric:0.0000})";
        mark.Axes.YAxis = plot.Axes.Right;

        plot.Font.Set(Fonts.Sans);
        plot.Title($"{title}, {points.Count} epochs, {points[^1].ElapsedSeconds:0} s", 14);
        plot.XLabel("seconds since the stage began", 13);
        plot.Axes.Left.Label.Text = "training loss";
        plot.Axes.Right.Label.Text = metric;
        plot.ShowLegend(Edge.Bottom);
    }
}
