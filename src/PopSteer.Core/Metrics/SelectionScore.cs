namespace PopSteer.Core.Metrics;

/// <summary>
/// The authors' selection rule, Gain = |dGini|/Gini0 - |dNDCG|/NDCG0, maximised subject to an NDCG drop of at
/// most <c>maxNdcgDrop</c> (relative), with one deliberate change: the Gini term is signed, (Gini0 - Gini)/Gini0.
/// With |dGini| a setting that makes the lists MORE concentrated scores as well as one that spreads them; on
/// Wikipedia the absolute rule picked alpha 4, N 512, which raised Gini@10 from 0.518 to 0.631. The rule exists to
/// reward lower popularity bias, so a Gini rise now counts against a setting. Shared by PopSteer's tuning and every
/// baseline's.
/// </summary>
public static class SelectionScore
{
    public static double Gain(MetricSet baseline, MetricSet candidate) =>
        (baseline.Gini == 0 ? 0 : (baseline.Gini - candidate.Gini) / baseline.Gini)
        - (baseline.Ndcg == 0 ? 0 : Math.Abs(candidate.Ndcg - baseline.Ndcg) / baseline.Ndcg);

    public static double NdcgDrop(MetricSet baseline, MetricSet candidate) =>
        baseline.Ndcg == 0 ? 0 : (baseline.Ndcg - candidate.Ndcg) / baseline.Ndcg;

    /// <summary>Picks the admissible candidate with the largest gain; null when none meets the NDCG constraint.</summary>
    public static T? Pick<T>(MetricSet baseline, IEnumerable<(T Setting, MetricSet Metrics)> grid, double maxNdcgDrop = 0.05)
        where T : class
    {
        if (maxNdcgDrop < 0 || double.IsNaN(maxNdcgDrop)) throw new ArgumentOutOfRangeException(nameof(maxNdcgDrop), maxNdcgDrop, "must be >= 0");
        T? best = null;
        double bestGain = double.NegativeInfinity;
        foreach (var (setting, metrics) in grid)
        {
            if (NdcgDrop(baseline, metrics) > maxNdcgDrop + 1e-12) continue;
            double gain = Gain(baseline, metrics);
            if (gain > bestGain) { bestGain = gain; best = setting; }
        }
        return best;
    }
}
