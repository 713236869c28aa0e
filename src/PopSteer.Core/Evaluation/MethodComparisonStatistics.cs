using PopSteer.Core.Statistics;

namespace PopSteer.Core.Evaluation;

/// <summary>
/// A method against a reference method (SASRec or PopSteer) on the same test users: the paired tests of per-user
/// NDCG@10 and the paired bootstrap intervals of the NDCG@10 and Gini@10 differences (method minus reference).
/// </summary>
public sealed record PairedComparison(
    string Method,
    string Against,
    ConfidenceInterval NdcgDifference,
    ConfidenceInterval GiniDifference,
    PairedTestResult TTest,
    PairedTestResult Wilcoxon)
{
    /// <summary>Significance level of every verdict (the tests' p and the intervals' 1 - level).</summary>
    public const double Alpha = 0.05;

    /// <summary>The NDCG difference is outside the noise: both tests reject at <see cref="Alpha"/> and the interval excludes 0.</summary>
    public bool NdcgSignificant => TTest.PValue < Alpha && Wilcoxon.PValue < Alpha && NdcgDifference.Excludes(0);

    /// <summary>The Gini difference is outside the noise: its bootstrap interval excludes 0.</summary>
    public bool GiniSignificant => GiniDifference.Excludes(0);
}

/// <summary>
/// A method's validation Pareto front of (Gini@10, NDCG@10) over its own grid, and the area it dominates.
/// <see cref="Area"/> is measured in relative units against SASRec's validation point (Gini0, NDCG0): x = relative
/// Gini reduction (Gini0 - Gini) / Gini0, y = NDCG above the selection rule's bound, (NDCG - (1 - d) NDCG0) / NDCG0,
/// both in percent, so the area is in %² and comparable across data sets. The reference point (x = 0, y = 0) is
/// (Gini0, (1 - d) NDCG0): a point counts only where it lowers Gini below SASRec's and keeps NDCG admissible.
/// </summary>
public sealed record MethodFront(string Method, IReadOnlyList<FrontPoint> Points, double Area);
