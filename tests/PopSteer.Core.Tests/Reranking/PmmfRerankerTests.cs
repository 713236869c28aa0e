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
    public void CumulativeExposure_MovesTowardTheBudgetShare()
    {
        // 10 head, 30 mid, 60 tail: rho = 0.1 / 0.3 / 0.6. Head scores far above the rest, so the base lists are all head.
        var groups = RerankFixtures.Catalogue(head: 10, mid: 30, tail: 60);
        var random = new Random(9);
        var pmmf = new PmmfReranker(groups, lambda: 1.0, eta: 1e-3, seed: 1);
        var rho = pmmf.BudgetShare;
        Assert.Equal(0.1, rho[(int)PopularityGroup.Head], 9);
        Assert.Equal(0.6, rho[(int)PopularityGroup.Tail], 9);

        // Cumulative exposure share per group after each batch of 10 users, against rho (L1 gap; all-head lists give 1.8).
        var gaps = new List<double>();
        for (int b = 0; b < 60; b++)
        {
            var batch = RerankFixtures.RandomBatch(random, 10, 100, bonus: i => i <= 10 ? 2.0 : i <= 40 ? 1.0 : 0);
            var lists = pmmf.Rerank(batch, RerankFixtures.EmptyHistories(10), 10);
            Assert.All(lists, l => Assert.Equal(10, l.Distinct().Count()));
            double total = pmmf.CumulativeExposure.Sum();
            gaps.Add(Enumerable.Range(0, 3).Sum(g => Math.Abs(pmmf.CumulativeExposure[g] / total - rho[g])));
        }
        string trace = string.Join(", ", gaps.Select(g => g.ToString("0.000"))) + " | mu " + string.Join(", ", pmmf.Duals) + " | exp " + string.Join(", ", pmmf.CumulativeExposure);
        Assert.True(gaps[0] > 1.0, $"the first users should still see the base (head) lists: {trace}");
        Assert.True(gaps[^1] < 0.4, $"cumulative gap should close: {trace}");
        // The tail's price needs a few dozen users to overcome the score gap; from then on every 40 users close it further.
        for (int b = 8; b < gaps.Count; b += 4)
            Assert.True(gaps[b] < gaps[b - 4], $"gap should keep shrinking as users stream: {trace}");
        Assert.True(pmmf.Duals[(int)PopularityGroup.Head] > 0, "the over-exposed head must carry a positive price");
        Assert.Equal(600, pmmf.UsersServed);
        Assert.Equal(6000, pmmf.CumulativeExposure.Sum(), 6);
    }

    [Fact]
    public void SameSeedAndBatches_RepeatExactly()
    {
        var groups = RerankFixtures.Catalogue(head: 10, mid: 30, tail: 60);
        int[][] Run(int seed)
        {
            var random = new Random(3);
            var pmmf = new PmmfReranker(groups, 0.1, 0.001, seed);
            return Enumerable.Range(0, 3).Select(_ => pmmf.Rerank(RerankFixtures.RandomBatch(random, 20, 100, i => i <= 10 ? 2 : 0), RerankFixtures.EmptyHistories(20), 10)).SelectMany(x => x).ToArray();
        }
        Assert.Equal(Run(5), Run(5));
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
    public void BadHyperparameters_AreRefused(double lambda, double eta, string name)
    {
        var groups = RerankFixtures.Catalogue(1, 1, 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new PmmfReranker(groups, lambda, eta));
        Assert.Equal(name, e.ParamName);
        Assert.Contains("P-MMF", e.Message);
    }
}
