using PopSteer.Core.Statistics;

namespace PopSteer.Core.Tests.Statistics;

public class BootstrapIntervalTests
{
    /// <summary>Paired samples whose true mean difference is exactly 0.1 (a = b + 0.1 + noise of mean 0).</summary>
    private static (double[] A, double[] B) Samples(int n, int seed)
    {
        var random = new Random(seed);
        var b = Enumerable.Range(0, n).Select(_ => random.NextDouble()).ToArray();
        // Symmetric +-0.3 noise around +0.1: the population mean difference is 0.1.
        var a = b.Select((x, i) => x + 0.1 + (i % 2 == 0 ? 0.3 : -0.3) * random.NextDouble()).ToArray();
        return (a, b);
    }

    [Fact]
    public void MeanDifferenceInterval_ContainsTheTrueDifference_AndShrinksWithN()
    {
        var (a1, b1) = Samples(100, 1);
        var (a2, b2) = Samples(1600, 2);
        var small = new BootstrapInterval(100, 1000, seed: 3).MeanDifference(a1, b1);
        var large = new BootstrapInterval(1600, 1000, seed: 3).MeanDifference(a2, b2);
        Assert.InRange(0.1, small.Low, small.High);
        Assert.InRange(0.1, large.Low, large.High);
        Assert.True(small.Excludes(0) && large.Excludes(0));
        // Width falls like 1/sqrt(n): 16 times the users, about a quarter of the width.
        double ratio = (large.High - large.Low) / (small.High - small.Low);
        Assert.InRange(ratio, 0.18, 0.34);
        Assert.Equal(a1.Average() - b1.Average(), small.Estimate, 12);
    }

    [Fact]
    public void SameSeed_GivesTheSameInterval_AndNoDifferenceStaysInsideTheNoise()
    {
        var random = new Random(5);
        var a = Enumerable.Range(0, 300).Select(_ => random.NextDouble()).ToArray();
        var b = a.Select(x => x).Reverse().ToArray(); // same distribution, no paired shift on average
        var first = new BootstrapInterval(300, 500, seed: 9).MeanDifference(a, b);
        var second = new BootstrapInterval(300, 500, seed: 9).MeanDifference(a, b);
        Assert.Equal(first, second);
        Assert.False(first.Excludes(0));
    }

    [Fact]
    public void AnyStatistic_IsResampledOverUsers()
    {
        // The statistic "share of drawn users with value 1" for 30 ones among 100: estimate 0.3, interval around it.
        var values = Enumerable.Range(0, 100).Select(i => i < 30 ? 1.0 : 0.0).ToArray();
        var ci = new BootstrapInterval(100, 2000, seed: 1).Of(draw => draw.Average(u => values[u]));
        Assert.Equal(0.3, ci.Estimate, 12);
        // Binomial SE = sqrt(0.3 * 0.7 / 100) = 0.0458: the 95% interval is about 0.3 +- 0.09.
        Assert.InRange(ci.Low, 0.19, 0.24);
        Assert.InRange(ci.High, 0.36, 0.41);
    }

    [Fact]
    public void Quantile_InterpolatesLikeRAndNumpy()
    {
        double[] sorted = [1, 2, 3, 4];
        Assert.Equal(2.5, BootstrapInterval.Quantile(sorted, 0.5), 12);
        Assert.Equal(1.075, BootstrapInterval.Quantile(sorted, 0.025), 12);
    }
}
