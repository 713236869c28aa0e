using PopSteer.Core.Data;
using PopSteer.Core.Reranking;

namespace PopSteer.Core.Tests.Reranking;

public class FairRerankerTests
{
    [Fact]
    public void MinimumTable_MatchesTheFairSearchReferenceTable()
    {
        // fairsearchcore's README: k = 20, p = 0.25, alpha = 0.1, unadjusted mtable.
        int[] expected = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3];
        var table = FairMinimumTable.Create(20, 0.25, 0.1);
        Assert.Equal(0, table[0]);
        Assert.Equal(expected, table[1..]);
    }

    [Fact]
    public void MinimumTable_FollowsTheBinomialDefinitionByHand()
    {
        // n = 9, p = 0.25: F(0) = 0.75^9 = 0.0751, F(1) = F(0) + 9 * 0.25 * 0.75^8 = 0.3003.
        Assert.Equal(1, FairMinimumTable.InverseCdf(9, 0.25, 0.0751));
        Assert.Equal(0, FairMinimumTable.InverseCdf(9, 0.25, 0.0750));
        Assert.Equal(2, FairMinimumTable.InverseCdf(9, 0.25, 0.31));
        // Long prefixes at large p would underflow (1-p)^n in plain arithmetic.
        Assert.InRange(FairMinimumTable.InverseCdf(500, 0.99, 0.01), 485, 495);
    }

    [Fact]
    public void AdjustedSignificance_IsTheSidakCorrection()
    {
        Assert.Equal(1 - Math.Pow(0.9, 0.1), FairMinimumTable.AdjustedSignificance(0.1, 10), 12);
        Assert.Equal(0.05, FairMinimumTable.AdjustedSignificance(0.05, 1), 12);
    }

    [Theory]
    [InlineData(0.5, 0.1)]
    [InlineData(0.7, 0.05)]
    [InlineData(0.9, 0.01)]
    [InlineData(0.99, 0.1)]
    public void EveryPrefixMeetsTheMinimum_AndEachGroupKeepsItsOrder(double p, double alpha)
    {
        // Popular items score higher on average, so the base lists are tail-poor and FA*IR has work to do.
        var groups = RerankFixtures.Catalogue(head: 10, mid: 30, tail: 60);
        var batch = RerankFixtures.RandomBatch(new Random(11), users: 40, items: 100, bonus: i => i <= 40 ? 1.5 : 0);
        var fair = new FairReranker(groups, p, alpha);
        var lists = fair.Rerank(batch, RerankFixtures.EmptyHistories(40), 10);
        var table = fair.MinimumTable(10);
        Assert.Contains(table, m => m > 0);
        for (int u = 0; u < 40; u++)
        {
            var list = lists[u];
            Assert.Equal(10, list.Length);
            Assert.Equal(10, list.Distinct().Count());
            int protectedSoFar = 0;
            for (int j = 1; j <= 10; j++)
            {
                if (groups[list[j - 1]] == PopularityGroup.Tail) protectedSoFar++;
                Assert.True(protectedSoFar >= table[j], $"user {u}: {protectedSoFar} tail items in the top {j}, minimum {table[j]}");
            }
            var row = batch.Row(u).ToArray();
            foreach (var inGroup in new[] { list.Where(i => groups[i] == PopularityGroup.Tail), list.Where(i => groups[i] != PopularityGroup.Tail) })
            {
                var scores = inGroup.Select(i => row[i]).ToArray();
                Assert.Equal(scores.OrderByDescending(s => s), scores);
            }
        }
    }

    [Fact]
    public void TakesTheBestTailItemsOnly_WhereTheTableDemandsThem()
    {
        // Items 1-4 non-tail scored 10..7, items 5-8 tail scored 4..1; p = 0.9, alpha = 0.1, K = 4.
        // alpha_c = 1 - 0.9^(1/4) = 0.0260. Binomial(k, 0.9):
        //   k=1: F(0) = 0.1 > 0.026 -> m = 0
        //   k=2: F(0) = 0.01, F(1) = 0.19 -> m = 1
        //   k=3: F(0) = 0.001, F(1) = 0.028 -> m = 1
        //   k=4: F(0) = 0.0001, F(1) = 0.0037, F(2) = 0.0523 -> m = 2
        // So: 1 (no tail needed), 5 (one needed), 2 (still one), 6 (two needed).
        var groups = RerankFixtures.Groups(
            [0, 8, 7, 6, 5, 4, 3, 2, 1],
            [PopularityGroup.Mid, PopularityGroup.Head, PopularityGroup.Head, PopularityGroup.Mid, PopularityGroup.Mid,
             PopularityGroup.Tail, PopularityGroup.Tail, PopularityGroup.Tail, PopularityGroup.Tail]);
        var batch = RerankFixtures.Batch([double.NegativeInfinity, 10, 9, 8, 7, 4, 3, 2, 1]);
        var fair = new FairReranker(groups, 0.9, 0.1);
        Assert.Equal([0, 0, 1, 1, 2], fair.MinimumTable(4));
        Assert.Equal([1, 5, 2, 6], fair.Rerank(batch, RerankFixtures.EmptyHistories(1), 4)[0]);
    }

    [Fact]
    public void TinyTargetProportion_LeavesTheBaseRankingAlone()
    {
        var groups = RerankFixtures.Catalogue(head: 10, mid: 30, tail: 60);
        var batch = RerankFixtures.RandomBatch(new Random(5), users: 10, items: 100, bonus: i => i <= 40 ? 1.5 : 0);
        var lists = new FairReranker(groups, 0.01, 0.1).Rerank(batch, RerankFixtures.EmptyHistories(10), 10);
        for (int u = 0; u < 10; u++) Assert.Equal(RerankFixtures.BaseRanking(batch, u, 10), lists[u]);
    }

    [Theory]
    [InlineData(0.0, 0.1, "p")]
    [InlineData(1.0, 0.1, "p")]
    [InlineData(1.5, 0.1, "p")]
    [InlineData(double.NaN, 0.1, "p")]
    [InlineData(0.5, 0.0, "alpha")]
    [InlineData(0.5, 1.0, "alpha")]
    public void BadHyperparameters_AreRefused(double p, double alpha, string name)
    {
        var groups = RerankFixtures.Catalogue(1, 1, 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new FairReranker(groups, p, alpha));
        Assert.Equal(name, e.ParamName);
        Assert.Contains("between 0 and 1", e.Message);
    }
}
