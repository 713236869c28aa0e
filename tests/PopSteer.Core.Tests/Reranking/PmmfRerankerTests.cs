using PopSteer.Core.Data;
using PopSteer.Core.Reranking;

namespace PopSteer.Core.Tests.Reranking;

public class PmmfRerankerTests
{
    [Fact]
    public void Projection_LeavesFeasibleDualsAlone()
    {
        Assert.Equal([0.5, -0.2, 3], MaxMinDualProjection.Project([0.5, -0.2, 3], [0.2, 0.3, 0.5], 1.0));
    }

    [Fact]
    public void Projection_RaisesNegativeDualsByOneCommonAmount_ByHand()
    {
        // rho = [0.5, 0.25, 0.25], mu~ = [-4, -6, 12] -> y = rho * mu~ = [-2, -1.5, 3], lambda = 1.
        // One entry still negative: tau = (-1 + 2) = 1 would lift -1.5 past 0 -> invalid.
        // Both negative: tau = (-1 + 3.5) / 2 = 1.25 -> y = [-0.75, -0.25, 3] -> mu = [-1.5, -1, 12].
        var mu = MaxMinDualProjection.Project([-4, -6, 12], [0.5, 0.25, 0.25], 1.0);
        Assert.Equal(new[] { -1.5, -1.0, 12.0 }, mu, (a, b) => Math.Abs(a - b) < 1e-12);

        // y = [-2, -1, 3]: tau = 1 lifts -1 exactly to 0 and -2 to -1: one entry left negative.
        var clipped = MaxMinDualProjection.Project([-2, -1, 3], [1, 1, 1], 1.0);
        Assert.Equal(new[] { -1.0, 0.0, 3.0 }, clipped, (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void Projection_IsTheNearestFeasiblePoint_AgainstBruteForce()
    {
        var random = new Random(4);
        double[] rho = [0.1, 0.3, 0.6];
        for (int trial = 0; trial < 50; trial++)
        {
            double lambda = 0.05 + random.NextDouble();
            double[] tilde = [random.NextDouble() * 20 - 15, random.NextDouble() * 10 - 6, random.NextDouble() * 4 - 3];
            var mu = MaxMinDualProjection.Project(tilde, rho, lambda);
            Assert.True(Feasible(mu, rho, lambda, 1e-9), $"projection infeasible in trial {trial}");
            double best = Distance(mu, tilde, rho);
            for (int s = 0; s < 3000; s++)
            {
                double[] probe = [mu[0] + Noise(random), mu[1] + Noise(random), mu[2] + Noise(random)];
                if (Feasible(probe, rho, lambda, 0))
                    Assert.True(Distance(probe, tilde, rho) >= best - 1e-9, $"a closer feasible point exists in trial {trial}");
            }
        }

        static double Noise(Random r) => (r.NextDouble() - 0.5) * (r.Next(2) == 0 ? 0.1 : 2);
        static double Distance(double[] a, double[] b, double[] w) => a.Select((x, g) => Math.Pow(w[g] * (x - b[g]), 2)).Sum();
        static bool Feasible(double[] mu, double[] w, double lambda, double tol)
        {
            // Every subset of the three groups.
            for (int mask = 1; mask < 8; mask++)
            {
                double sum = 0;
                for (int g = 0; g < 3; g++) if ((mask & (1 << g)) != 0) sum += w[g] * mu[g];
                if (sum < -lambda - tol) return false;
            }
            return true;
        }
    }

    [Fact]
    public void OneUser_DualStep_ByHand()
    {
        // 10 head, 30 mid, 60 tail: rho = 4/3 x (0.1, 0.3, 0.6). One user (T = 1), K = 10, base list all head.
        // Remaining budget B = 4/3 x (1, 3, 6) - (10, 0, 0); gradient = -(10, 0, 0)/10 + B/10, times the momentum 0.9
        // (the previous gradient is 0); mu~ = 0 - eta * gradient / rho^2; the projection leaves it (lambda = 1 is loose).
        var groups = RerankFixtures.Catalogue(head: 10, mid: 30, tail: 60);
        var pmmf = new PmmfReranker(groups, lambda: 1.0, eta: 1e-3);
        double[] rho = [0.4 / 3, 1.2 / 3, 2.4 / 3];
        Assert.Equal(ByGroup(rho), pmmf.BudgetShare, (a, b) => Math.Abs(a - b) < 1e-12);
        var batch = RerankFixtures.RandomBatch(new Random(1), 1, 100, bonus: i => i <= 10 ? 5.0 : 0);
        var list = pmmf.Rerank(batch, RerankFixtures.EmptyHistories(1), 10)[0];
        Assert.Equal(RerankFixtures.BaseRanking(batch, 0, 10), list); // zero prices: the first user sees the base list
        double[] remaining = [4.0 / 3 - 10, 4.0, 8.0];
        double[] counts = [10, 0, 0];
        var expected = Enumerable.Range(0, 3).Select(g => -1e-3 * 0.9 * (-counts[g] / 10 + remaining[g] / 10) / (rho[g] * rho[g])).ToArray();
        Assert.Equal(ByGroup(expected), pmmf.Duals, (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.True(pmmf.Duals[(int)PopularityGroup.Head] > 0, "the over-exposed head gets a positive price");
    }

    [Fact]
    public void WithinABatch_TheHeadIsHeldToItsBudget_AndEachBatchStartsOver()
    {
        // Head items score far above the rest; a weak price (small eta) alone would not move them, so the budget mask
        // does: the head may take at most T K rho_head plus the one list that crosses it.
        var groups = RerankFixtures.Catalogue(head: 10, mid: 30, tail: 60);
        var random = new Random(9);
        var batch = RerankFixtures.RandomBatch(random, 50, 100, bonus: i => i <= 10 ? 5.0 : i <= 40 ? 1.0 : 0);
        var pmmf = new PmmfReranker(groups, lambda: 1.0, eta: 1e-6);
        var lists = pmmf.Rerank(batch, RerankFixtures.EmptyHistories(50), 10);
        Assert.All(lists, l => Assert.Equal(10, l.Distinct().Count()));
        int head = lists.Sum(l => l.Count(i => groups[i] == PopularityGroup.Head));
        double headBudget = 50 * 10 * pmmf.BudgetShare[(int)PopularityGroup.Head];
        Assert.InRange(head, headBudget, headBudget + 10);
        Assert.True(lists[0].All(i => groups[i] == PopularityGroup.Head), "the first users still see their all-head base lists");
        Assert.True(lists[^1].All(i => groups[i] != PopularityGroup.Head), "once the budget is spent the head is masked");

        // Prices, budgets and momentum reset per batch: the same batch again gives the same lists.
        Assert.Equal(lists, pmmf.Rerank(batch, RerankFixtures.EmptyHistories(50), 10));
        Assert.Equal(100, pmmf.UsersServed);
    }

    [Fact]
    public void TwoUsers_MaskAndMomentum_ByHand()
    {
        // T = 2, K = 10: budgets B = 20 rho = (2.667, 8, 16). Head scores highest, then mid (bonus 3), then tail.
        // User 1 takes 10 head: B = (-7.333, 8, 16), g1 = -(1, 0, 0) + B/20, s1 = 0.9 g1, mu1 = -eta s1 / rho^2.
        // User 2: the head's budget is spent, so it is masked and the list is 10 mid items: B = (-7.333, -2, 16),
        // g2 = -(0, 1, 0) + B/20, s2 = 0.9 g2 + 0.1 s1, mu2 = mu1 - eta s2 / rho^2.
        var groups = RerankFixtures.Catalogue(head: 10, mid: 30, tail: 60);
        double eta = 1e-3;
        var pmmf = new PmmfReranker(groups, lambda: 1.0, eta: eta);
        double[] rho = [0.4 / 3, 1.2 / 3, 2.4 / 3];
        var batch = RerankFixtures.RandomBatch(new Random(2), 2, 100, bonus: i => i <= 10 ? 6.0 : i <= 40 ? 3.0 : 0);
        var lists = pmmf.Rerank(batch, RerankFixtures.EmptyHistories(2), 10);
        Assert.All(lists[0], i => Assert.Equal(PopularityGroup.Head, groups[i]));
        Assert.All(lists[1], i => Assert.Equal(PopularityGroup.Mid, groups[i]));

        double[] b1 = [20 * rho[0] - 10, 20 * rho[1], 20 * rho[2]];
        double[] s1 = [0.9 * (-1 + b1[0] / 20), 0.9 * (b1[1] / 20), 0.9 * (b1[2] / 20)];
        double[] b2 = [b1[0], b1[1] - 10, b1[2]];
        double[] g2 = [b2[0] / 20, -1 + b2[1] / 20, b2[2] / 20];
        var expected = Enumerable.Range(0, 3)
            .Select(g => -eta * s1[g] / (rho[g] * rho[g]) - eta * (0.9 * g2[g] + 0.1 * s1[g]) / (rho[g] * rho[g])).ToArray();
        Assert.Equal(ByGroup(expected), pmmf.Duals, (a, b) => Math.Abs(a - b) < 1e-12);
    }

    /// <summary>Head, mid, tail values (the order the comments use) indexed by <see cref="PopularityGroup"/>.</summary>
    private static double[] ByGroup(IReadOnlyList<double> headMidTail)
    {
        var result = new double[3];
        result[(int)PopularityGroup.Head] = headMidTail[0];
        result[(int)PopularityGroup.Mid] = headMidTail[1];
        result[(int)PopularityGroup.Tail] = headMidTail[2];
        return result;
    }

    [Fact]
    public void ChosenItemsAreShownInBaseScoreOrder()
    {
        var groups = RerankFixtures.Catalogue(head: 10, mid: 30, tail: 60);
        var batch = RerankFixtures.RandomBatch(new Random(1), 30, 100, i => i <= 10 ? 2 : 0);
        var lists = new PmmfReranker(groups, 1, 0.01).Rerank(batch, RerankFixtures.EmptyHistories(30), 10);
        for (int u = 0; u < 30; u++)
        {
            var row = batch.Row(u).ToArray();
            var scores = lists[u].Select(i => row[i]).ToArray();
            Assert.Equal(scores.OrderByDescending(s => s), scores);
        }
    }

    [Theory]
    [InlineData(0.0, 0.01, "lambda")]
    [InlineData(-1.0, 0.01, "lambda")]
    [InlineData(1.0, 0.0, "eta")]
    [InlineData(1.0, double.NaN, "eta")]
    [InlineData(1.0, 0.01, "momentum", 1.5)]
    public void BadHyperparameters_AreRefused(double lambda, double eta, string name, double momentum = 0.9)
    {
        var groups = RerankFixtures.Catalogue(1, 1, 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new PmmfReranker(groups, lambda, eta, momentum));
        Assert.Equal(name, e.ParamName);
        Assert.Contains("P-MMF", e.Message);
    }
}
