namespace PopSteer.Core.Statistics;

/// <summary>One point of the fairness-accuracy plane: lower Gini@10 is better, higher NDCG@10 is better.</summary>
public readonly record struct FrontPoint(double Gini, double Ndcg);

/// <summary>
/// The Pareto front of (Gini@10, NDCG@10) points and the area it dominates (the two-dimensional hypervolume).
/// A point dominates another when it is at least as good in both (Gini no higher, NDCG no lower) and better in
/// one. The dominated area is the area of the union of the boxes [Gini_i, refGini] x [refNdcg, NDCG_i]; points
/// that are not better than the reference point in both coordinates add nothing.
/// </summary>
public static class ParetoFront
{
    /// <summary>The non-dominated points, by rising Gini (so rising NDCG); duplicates kept once.</summary>
    public static IReadOnlyList<FrontPoint> Of(IEnumerable<FrontPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var front = new List<FrontPoint>();
        // By Gini ascending, NDCG descending: a point is on the front exactly when its NDCG beats every point before it.
        foreach (var p in points.Where(p => double.IsFinite(p.Gini) && double.IsFinite(p.Ndcg)).Distinct()
                     .OrderBy(p => p.Gini).ThenByDescending(p => p.Ndcg))
            if (front.Count == 0 || p.Ndcg > front[^1].Ndcg) front.Add(p);
        return front;
    }

    /// <summary>The area dominated by the points and bounded by the reference point (worst Gini, worst NDCG).</summary>
    public static double DominatedArea(IEnumerable<FrontPoint> points, FrontPoint reference)
    {
        var front = Of(points).Where(p => p.Gini < reference.Gini && p.Ndcg > reference.Ndcg).ToList();
        // Sweep from the worst Gini down: each front point adds the strip between its Gini and the next point's.
        double area = 0;
        for (int i = 0; i < front.Count; i++)
        {
            double right = i + 1 < front.Count ? front[i + 1].Gini : reference.Gini;
            area += (right - front[i].Gini) * (front[i].Ndcg - reference.Ndcg);
        }
        return area;
    }
}
