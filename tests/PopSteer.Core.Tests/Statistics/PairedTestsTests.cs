using PopSteer.Core.Statistics;

namespace PopSteer.Core.Tests.Statistics;

public class PairedTestsTests
{
    // Student's sleep data (Cushny & Peebles 1905): extra hours of sleep of 10 patients under two drugs.
    private static readonly double[] Drug1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
    private static readonly double[] Drug2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

    [Fact]
    public void PairedT_MatchesTheTextbookSleepExample()
    {
        // R: t.test(Drug1, Drug2, paired = TRUE): t = -4.0621, df = 9, p-value = 0.002833, mean difference -1.58.
        var r = PairedTests.TTest(Drug1, Drug2);
        Assert.Equal(-1.58, r.MeanDifference, 10);
        Assert.Equal(-4.0621, r.Statistic, 4);
        Assert.Equal(0.002833, r.PValue, 5);
        Assert.Equal(10, r.Pairs);
    }

    [Fact]
    public void Wilcoxon_WithTiesAndAZero_MatchesTheNormalApproximation()
    {
        // R: wilcox.test(Drug2, Drug1, paired = TRUE) drops the zero difference, ties two |d| = 1.3 and gives
        // V = 45, p-value = 0.009091 (normal approximation with tie and continuity corrections).
        var r = PairedTests.Wilcoxon(Drug2, Drug1);
        Assert.Equal(45, r.Statistic, 10);
        Assert.Equal(0.009091, r.PValue, 5);
    }

    [Fact]
    public void Wilcoxon_WithoutTies_IsExact()
    {
        // All 10 differences positive and distinct: P(W+ = 55) = 1/2^10, two-sided 2/1024.
        double[] a = [1.1, 2.2, 3.3, 4.4, 5.5, 6.6, 7.7, 8.8, 9.9, 11];
        var r = PairedTests.Wilcoxon(a, new double[10]);
        Assert.Equal(55, r.Statistic, 10);
        Assert.Equal(2.0 / 1024, r.PValue, 12);
        // n = 5, W+ = 3 (ranks 1 and 2 positive): P(W+ <= 3) = 5/32 (sums 0, 1, 2, 3, 3), two-sided 10/32.
        Assert.Equal(10.0 / 32, PairedTests.ExactWilcoxonTwoSided(3, 5), 12);
    }

    [Fact]
    public void IdenticalSamples_AreNotDifferent()
    {
        double[] a = [0, 0.5, 0, 1, 0.3];
        Assert.Equal(1, PairedTests.TTest(a, a).PValue);
        Assert.Equal(1, PairedTests.Wilcoxon(a, a).PValue);
    }

    [Theory]
    [InlineData(2.262157, 9, 0.05)]   // t table: t(0.975, 9)
    [InlineData(1.959964, 1e9, 0.05)] // the normal limit
    [InlineData(63.65674, 1, 0.01)]   // t(0.995, 1)
    public void StudentTwoSided_MatchesTables(double t, double df, double p)
    {
        Assert.Equal(p, Distributions.StudentTwoSided(t, df), 5);
        Assert.Equal(p, Distributions.StudentTwoSided(-t, df), 5);
    }

    [Fact]
    public void Normal_MatchesTables()
    {
        Assert.Equal(0.05, Distributions.NormalTwoSided(1.959964), 6);
        Assert.Equal(0.975, Distributions.NormalCdf(1.959964), 6);
        Assert.Equal(0.5, Distributions.NormalCdf(0), 7); // the erfc fit is good to 1.2e-7 relative
    }

    [Fact]
    public void MismatchedSamples_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => PairedTests.TTest([1, 2], [1]));
        Assert.Throws<ArgumentException>(() => PairedTests.Wilcoxon([1, double.NaN], [1, 2]));
    }
}
