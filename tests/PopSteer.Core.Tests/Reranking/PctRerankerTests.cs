using PopSteer.Core.Data;
using PopSteer.Core.Reranking;

namespace PopSteer.Core.Tests.Reranking;

public class PctRerankerTests
{
    [Fact]
    public void TargetLp_ShiftsEveryUserEquallyUntilTheMeanIsP()
    {
        // h = [0, 0.2, 0.5, 0.9], p = 0.6: mean h = 0.4. With a common shift d >= 0.1 the last user clips at 1:
        // d + (0.2 + d) + (0.5 + d) + 1 = 2.4  ->  d = 0.7 / 3 = 0.2333.
        var t = CalibrationTargets.Solve([0, 0.2, 0.5, 0.9], 0.6);
        double d = 0.7 / 3;
        Assert.Equal(new[] { d, 0.2 + d, 0.5 + d, 1.0 }, t, (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal(0.6, t.Average(), 6);
    }

    [Fact]
    public void TargetLp_LowersTargetsWhenHistoriesAreTailHeavier()
    {
        var t = CalibrationTargets.Solve([0.9, 0.8, 0.05], 0.3);
        // Down by d: (0.9 - d) + (0.8 - d) + max(0, 0.05 - d) = 0.9 with d >= 0.05 -> d = 0.4.
        Assert.Equal(new[] { 0.5, 0.4, 0.0 }, t, (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(0.7)]
    public void AverageTailExposure_MeetsTheTarget(double p)
    {
        var groups = RerankFixtures.Catalogue(head: 20, mid: 60, tail: 120);
        var random = new Random(21);
        int users = 60;
        // Popular items score higher: the base lists carry little tail exposure.
        var batch = RerankFixtures.RandomBatch(random, users, 200, bonus: i => i <= 80 ? 1.0 : 0);
        var histories = Enumerable.Range(0, users)
            .Select(_ => Enumerable.Range(0, 20).Select(_ => random.Next(1, 201)).ToArray()).ToArray();
        var pct = new PctReranker(groups, p, lambda: 0);
        var lists = pct.Rerank(batch, histories, 10);
        double achieved = lists.Average(l => PctReranker.TailExposure(l, groups));
        Assert.InRange(achieved, p - 0.03, p + 0.03);

        // Each user tracks their own target, not just the average.
        var targets = pct.Targets(histories);
        for (int u = 0; u < users; u++)
            Assert.InRange(PctReranker.TailExposure(lists[u], groups), targets[u] - 0.12, targets[u] + 0.12);

        double baseExposure = Enumerable.Range(0, users).Average(u => PctReranker.TailExposure(RerankFixtures.BaseRanking(batch, u, 10), groups));
        Assert.True(baseExposure < 0.15, $"fixture should start tail-poor, base exposure {baseExposure}");
    }

    [Fact]
    public void UsersWithTailHeavierHistories_GetMoreTail()
    {
        var groups = RerankFixtures.Catalogue(head: 20, mid: 60, tail: 120);
        var batch = RerankFixtures.RandomBatch(new Random(2), 2, 200, bonus: i => i <= 80 ? 1.0 : 0);
        int[][] histories = [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [190, 191, 192, 193, 194, 195, 196, 197, 1, 2]];
        var lists = new PctReranker(groups, 0.5, 0).Rerank(batch, histories, 10);
        Assert.True(PctReranker.TailExposure(lists[1], groups) > PctReranker.TailExposure(lists[0], groups) + 0.3);
    }

    [Fact]
    public void GreedyFillThenMmr_ByHand()
    {
        // Items 1-3 rest (head), 4-6 tail. One user whose base ranking is R1, R2, T4, R3, T5, T6; K = 3, so
        // w = 1, 0.6309, 0.5 and E = 2.1309. One user in the batch: the target is p = 0.5 exactly, budgets 1.0655 each.
        // Greedy: pos 0 R1 (rest 1 <= 1.0655); pos 1 R2 no (1.63), T4 yes (0.63); pos 2 R2 no (1.5), T5 no (1.13): empty.
        // MMR at pos 2: R2 (rank 1) lambda/2 - (1-lambda) * 0.5 * ((1.5 - 1.0655)^2 + (0.6309 - 1.0655)^2) = lambda/2 - (1-lambda) 0.1888;
        //               T5 (rank 4) lambda/5 - (1-lambda) * 0.5 * ((1 - 1.0655)^2 + (1.1309 - 1.0655)^2) = lambda/5 - (1-lambda) 0.0043.
        // R2 wins for lambda > 0.1845 / 0.4845 = 0.381.
        var groups = RerankFixtures.Groups([0, 6, 5, 4, 3, 2, 1],
            [PopularityGroup.Head, PopularityGroup.Head, PopularityGroup.Head, PopularityGroup.Head, PopularityGroup.Tail, PopularityGroup.Tail, PopularityGroup.Tail]);
        var batch = RerankFixtures.Batch([double.NegativeInfinity, 10, 9, 7, 8, 6, 5]);
        int[][] histories = [[]];
        Assert.Equal([1, 4, 2], new PctReranker(groups, 0.5, lambda: 0.5).Rerank(batch, histories, 3)[0]);
        Assert.Equal([1, 4, 5], new PctReranker(groups, 0.5, lambda: 0.3).Rerank(batch, histories, 3)[0]);
        // lambda = 1 is pure rank in the MMR step, but the greedy fill still keeps each group inside its budget.
        Assert.Equal([1, 4, 2], new PctReranker(groups, 0.5, lambda: 1).Rerank(batch, histories, 3)[0]);
        // A tail-poor target (p = 0.05: tail budget 0.107, rest 2.024): greedy R1, R2, then nothing fits pos 2;
        // MMR: R3 (rank 3) 0.5/4 - 0.5 * 0.0113 = 0.119 beats T4 (rank 2) 0.5/3 - 0.5 * 0.155 = 0.089.
        Assert.Equal([1, 2, 3], new PctReranker(groups, 0.05, lambda: 0.5).Rerank(batch, histories, 3)[0]);
    }

    [Theory]
    [InlineData(0.0, 0.5, "p")]
    [InlineData(1.0, 0.5, "p")]
    [InlineData(-0.2, 0.5, "p")]
    [InlineData(0.5, -0.1, "lambda")]
    [InlineData(0.5, 1.1, "lambda")]
    public void BadHyperparameters_AreRefused(double p, double lambda, string name)
    {
        var groups = RerankFixtures.Catalogue(1, 1, 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new PctReranker(groups, p, lambda));
        Assert.Equal(name, e.ParamName);
        Assert.Contains("PCT", e.Message);
    }
}
