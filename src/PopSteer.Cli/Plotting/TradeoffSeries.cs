namespace PopSteer.Cli.Plotting;

/// <summary>One operating point of a method: its label (e.g. "alpha=1.5") and its @10 metrics.</summary>
public sealed record TradeoffPoint(string Label, double Ndcg, double Gini, double TailCoverage);

/// <summary>
/// A method's points on the trade-off plot. <see cref="IsCurve"/>: the points are ordered along one knob
/// (PopSteer's alpha) and are joined by a line and labelled; otherwise they are a tuning grid drawn as markers.
/// <see cref="Front"/>: the method's Pareto front of (Gini, NDCG), drawn as a dashed staircase in the series' colour
/// on the Gini panel (a front of Gini and NDCG means nothing against tail coverage).
/// </summary>
public sealed record TradeoffSeries(string Name, IReadOnlyList<TradeoffPoint> Points, bool IsCurve, IReadOnlyList<TradeoffPoint>? Front = null);
