using PopSteer.Core.Data;
using PopSteer.Core.Reranking;

namespace PopSteer.Core.Tests.Reranking;

public class IprRerankerTests
{
    [Fact]
    public void StrengthZero_ReproducesTheBaseRanking_IncludingNegativeScores()
    {
        var groups = RerankFixtures.Catalogue(head: 5, mid: 20, tail: 35);
        var batch = RerankFixtures.RandomBatch(new Random(7), users: 30, items: 60);
        var lists = new IprReranker(groups, 0).Rerank(batch, RerankFixtures.EmptyHistories(30), 10);
        for (int u = 0; u < 30; u++)
            Assert.Equal(RerankFixtures.BaseRanking(batch, u, 10), lists[u]);
    }

    [Theory]
    // Scores -0.1 .. -0.5 for items 1..5, item 1 has pop 100 and the others pop 1. Shifted by min (-0.5):
    // 0.4, 0.3, 0.2, 0.1, ~0. Item 1 becomes 0.4/(1+a); the others barely move (factor 1 + a/100).
    [InlineData(0.0, 1)]   // 0.4 > 0.3
    [InlineData(0.3, 1)]   // 0.4/1.3 = 0.308 > 0.3/1.003 = 0.299
    [InlineData(0.5, 2)]   // 0.267 < 0.299 but > 0.2/1.005 = 0.199
    [InlineData(1.0, 2)]   // 0.2 > 0.198
    [InlineData(3.0, 3)]   // 0.1: below 0.3/1.03 = 0.291 and 0.2/1.03 = 0.194, above 0.1/1.03 = 0.097
    [InlineData(5.0, 4)]   // 0.4/6 = 0.067: now also below 0.1/1.05 = 0.095
    public void PopularItemFallsAsStrengthRises(double strength, int expectedRank)
    {
        var groups = RerankFixtures.Groups(
            [0, 100, 1, 1, 1, 1],
            [PopularityGroup.Mid, PopularityGroup.Head, PopularityGroup.Mid, PopularityGroup.Mid, PopularityGroup.Tail, PopularityGroup.Tail]);
        var batch = RerankFixtures.Batch([double.NegativeInfinity, -0.1, -0.2, -0.3, -0.4, -0.5]);
        var list = new IprReranker(groups, strength).Rerank(batch, RerankFixtures.EmptyHistories(1), 5)[0];
        Assert.Equal(expectedRank, Array.IndexOf(list, 1) + 1);
        Assert.DoesNotContain(0, list);
    }

    [Fact]
    // Pairwise, a less popular item that overtakes a more popular one never falls back as a grows, so the top-K
    // set only ever trades a more popular item for a less popular one: mean popularity cannot rise.
    public void MeanPopularityOfListsNeverRisesWithStrength()
    {
        var groups = RerankFixtures.Catalogue(head: 3, mid: 10, tail: 27);
        var batch = RerankFixtures.RandomBatch(new Random(3), users: 20, items: 40);
        double previous = double.PositiveInfinity;
        foreach (var a in new[] { 0.0, 0.1, 0.3, 0.5, 1.0, 3.0 })
        {
            var lists = new IprReranker(groups, a).Rerank(batch, RerankFixtures.EmptyHistories(20), 10);
            double arp = lists.SelectMany(l => l).Average(i => (double)groups.Counts[i]);
            Assert.True(arp <= previous + 1e-9, $"mean popularity rose from {previous} to {arp} at a = {a}");
            previous = arp;
        }
        var untouched = new IprReranker(groups, 0).Rerank(batch, RerankFixtures.EmptyHistories(20), 10);
        Assert.True(previous < untouched.SelectMany(l => l).Average(i => (double)groups.Counts[i]), "a = 3 should lower mean popularity");
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void BadStrength_IsRefused(double strength)
    {
        var groups = RerankFixtures.Catalogue(1, 1, 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new IprReranker(groups, strength));
        Assert.Contains("IPR", e.Message);
        Assert.Contains("strength", e.Message);
    }
}
