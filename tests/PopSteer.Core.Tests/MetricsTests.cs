using PopSteer.Core.Data;
using PopSteer.Core.Metrics;

namespace PopSteer.Core.Tests;

public class MetricsTests
{
    /// <summary>
    /// Items 1..6 with training counts 40, 30, 10, 10, 6, 4 (total 100). Share 0.4:
    ///   head (descending, cumulative &lt;= 0.4): 1 (0.40) -> {1}; adding 2 gives 0.70.
    ///   tail (ascending): 6 (0.04), 5 (0.10), 4 (0.20), 3 (0.30) &lt;= 0.4; adding 2 gives 0.60 -> {3, 4, 5, 6}; mid = {2}.
    /// </summary>
    private static PopularityGroups Groups() => PopularityGroups.FromCounts([0, 40, 30, 10, 10, 6, 4], 0.4);

    [Fact]
    public void The_hand_example_groups_are_as_computed()
    {
        var g = Groups();
        Assert.Equal([1], g.Items(PopularityGroup.Head));
        Assert.Equal([2], g.Items(PopularityGroup.Mid));
        Assert.Equal([3, 4, 5, 6], g.Items(PopularityGroup.Tail));
    }

    [Fact]
    public void Every_metric_matches_a_hand_computation_at_k_3()
    {
        // Three users, K = 3.
        //   u0: [1, 2, 3], target 2 (mid)  -> hit at rank 2: NDCG 1/log2(3) = 0.630930, MRR 1/2
        //   u1: [1, 3, 5], target 1 (head) -> hit at rank 1: NDCG 1, MRR 1
        //   u2: [2, 1, 4], target 6 (tail) -> miss
        // NDCG = (0.630930 + 1 + 0) / 3 = 0.543643; Hit = 2/3; MRR = 1.5 / 3 = 0.5
        // Exposure c: item1 3, item2 2, item3 2, item4 1, item5 1, item6 0 (n = 6, sum = 9)
        //   ascending: 0, 1, 1, 2, 2, 3 ; weights (2r - n - 1) for r = 1..6: -5, -3, -1, 1, 3, 5
        //   sum = 0 - 3 - 1 + 2 + 6 + 15 = 19 -> Gini = 19 / (6 * 9) = 0.351852
        // Tail {3,4,5,6}: covered 3, 4, 5 -> 3/4. Mid+Tail {2..6}: 5 of 5 but 6 unseen -> 4/5. Items: 5/6.
        // APLT: non-head per list / K: u0 2/3, u1 2/3, u2 2/3 -> 0.666667
        // ARP: mean count per list: u0 (40+30+10)/3 = 26.6667, u1 (40+10+6)/3 = 18.6667, u2 (30+40+10)/3 = 26.6667 -> 24
        // Per group of the target: head u1 -> 1; mid u0 -> 0.630930; tail u2 -> 0.
        var m = RankingEvaluator.Evaluate([[1, 2, 3], [1, 3, 5], [2, 1, 4]], [2, 1, 6], Groups(), k: 3);
        Assert.Equal(3, m.Users);
        Assert.Equal(0.543643, m.Ndcg, 6);
        Assert.Equal(2.0 / 3, m.Hit, 10);
        Assert.Equal(0.5, m.Mrr, 10);
        Assert.Equal(19.0 / 54, m.Gini, 10);
        Assert.Equal(0.75, m.TailCoverage, 10);
        Assert.Equal(0.8, m.LongTailCoverage, 10);
        Assert.Equal(5.0 / 6, m.ItemCoverage, 10);
        Assert.Equal(2.0 / 3, m.Aplt, 10);
        Assert.Equal(24.0, m.Arp, 10);
        Assert.Equal(1.0, m.NdcgHead, 10);
        Assert.Equal(1 / Math.Log2(3), m.NdcgMid, 10);
        Assert.Equal(0.0, m.NdcgTail, 10);
        Assert.Equal("ndcg@3", m.Named()[0].Key);
    }

    [Fact]
    public void Gini_is_zero_for_equal_exposure_and_near_one_for_a_single_item()
    {
        Assert.Equal(0.0, RankingEvaluator.Gini([0, 5, 5, 5, 5]), 12);
        // One of n = 4 items gets everything: sum_r (2r - 5) c_r = 3 * c / (4 c) = 0.75 = (n - 1) / n.
        Assert.Equal(0.75, RankingEvaluator.Gini([0, 0, 0, 7, 0]), 12);
        Assert.Equal(0.0, RankingEvaluator.Gini([0, 0, 0]));
    }

    [Fact]
    public void Selection_score_picks_the_largest_gain_within_the_ndcg_budget()
    {
        var baseline = new MetricSet { Ndcg = 0.10, Gini = 0.80 };
        var grid = new (string, MetricSet)[]
        {
            ("small", new MetricSet { Ndcg = 0.099, Gini = 0.76 }),   // gain 0.05 - 0.01 = 0.04
            ("best", new MetricSet { Ndcg = 0.096, Gini = 0.70 }),    // gain 0.125 - 0.04 = 0.085
            ("too far", new MetricSet { Ndcg = 0.090, Gini = 0.50 }), // drop 10% > 5%: excluded
        };
        Assert.Equal("best", SelectionScore.Pick(baseline, grid));
        Assert.Equal(0.085, SelectionScore.Gain(baseline, grid[1].Item2), 10);
        Assert.Null(SelectionScore.Pick(baseline, grid[2..]));
    }

    [Fact]
    public void Selection_score_counts_a_gini_rise_against_a_setting()
    {
        // The same |dGini| = 0.10 either way: only the setting that lowers Gini may win.
        var baseline = new MetricSet { Ndcg = 0.10, Gini = 0.80 };
        var grid = new (string, MetricSet)[]
        {
            ("more concentrated", new MetricSet { Ndcg = 0.10, Gini = 0.90 }), // gain -0.125
            ("less concentrated", new MetricSet { Ndcg = 0.099, Gini = 0.70 }), // gain 0.125 - 0.01
        };
        Assert.Equal(-0.125, SelectionScore.Gain(baseline, grid[0].Item2), 10);
        Assert.Equal("less concentrated", SelectionScore.Pick(baseline, grid));
    }
}
