using PopSteer.Core.Statistics;

namespace PopSteer.Core.Tests.Statistics;

public class ParetoFrontTests
{
    [Fact]
    public void ThreePoints_FrontAndArea_ByHand()
    {
        // A (0.2, 0.5), B (0.4, 0.8), C (0.5, 0.6): C has more Gini and less NDCG than B, so it is dominated.
        FrontPoint a = new(0.2, 0.5), b = new(0.4, 0.8), c = new(0.5, 0.6);
        Assert.Equal([a, b], ParetoFront.Of([c, b, a]));
        // Reference (1, 0): boxes [0.2, 1] x [0, 0.5] = 0.4 and [0.4, 1] x [0, 0.8] = 0.48 overlap in
        // [0.4, 1] x [0, 0.5] = 0.3, so the union is 0.58.
        Assert.Equal(0.58, ParetoFront.DominatedArea([a, b, c], new FrontPoint(1, 0)), 12);
        // A dominated point adds nothing.
        Assert.Equal(ParetoFront.DominatedArea([a, b], new FrontPoint(1, 0)), ParetoFront.DominatedArea([a, b, c], new FrontPoint(1, 0)), 12);
    }

    [Fact]
    public void PointsNotBetterThanTheReference_AddNothing()
    {
        // Reference (0.45, 0.55): only B (0.4, 0.8) beats it in both: (0.45 - 0.4) x (0.8 - 0.55) = 0.0125.
        FrontPoint a = new(0.2, 0.5), b = new(0.4, 0.8), c = new(0.5, 0.6);
        Assert.Equal(0.0125, ParetoFront.DominatedArea([a, b, c], new FrontPoint(0.45, 0.55)), 12);
        Assert.Equal(0, ParetoFront.DominatedArea([new FrontPoint(0.5, 0.9)], new FrontPoint(0.45, 0.55)));
        Assert.Empty(ParetoFront.Of([]));
    }

    [Fact]
    public void EqualGini_KeepsOnlyTheBetterNdcg()
    {
        Assert.Equal([new FrontPoint(0.3, 0.7)], ParetoFront.Of([new FrontPoint(0.3, 0.6), new FrontPoint(0.3, 0.7), new FrontPoint(0.3, 0.7)]));
    }
}
