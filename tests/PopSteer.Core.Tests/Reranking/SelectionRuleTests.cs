using PopSteer.Core.Metrics;

namespace PopSteer.Core.Tests.Reranking;

public class SelectionRuleTests
{
    private static readonly MetricSet Baseline = new() { Ndcg = 0.10, Gini = 0.80 };

    // Gain = |dGini|/0.8 - |dNDCG|/0.1, admissible when the NDCG drop is at most the bound:
    //   A: 0.099/0.78 -> 0.025 - 0.01 = 0.015 (drop 1%)
    //   B: 0.096/0.70 -> 0.125 - 0.04 = 0.085 (drop 4%)
    //   C: 0.090/0.50 -> 0.375 - 0.10 = 0.275 (drop 10%)
    //   D: 0.0951/0.72 -> 0.100 - 0.049 = 0.051 (drop 4.9%)
    private static readonly (string Setting, MetricSet Metrics)[] Grid =
    [
        ("A", new MetricSet { Ndcg = 0.099, Gini = 0.78 }),
        ("B", new MetricSet { Ndcg = 0.096, Gini = 0.70 }),
        ("C", new MetricSet { Ndcg = 0.090, Gini = 0.50 }),
        ("D", new MetricSet { Ndcg = 0.0951, Gini = 0.72 }),
    ];

    [Theory]
    [InlineData(0.05, "B")]   // C has the largest gain but drops NDCG by 10%
    [InlineData(0.15, "C")]
    [InlineData(0.02, "A")]
    public void PicksTheLargestGainWithinTheNdcgBound(double maxDrop, string expected) =>
        Assert.Equal(expected, SelectionScore.Pick(Baseline, Grid, maxDrop));

    [Fact]
    public void NothingAdmissible_PicksNothing() =>
        Assert.Null(SelectionScore.Pick(Baseline, Grid, 0.005));
}
