namespace PopSteer.Core.Statistics;

/// <summary>The outcome of a paired test of a against b: the mean of a - b, the statistic, and its two-sided p-value.</summary>
public sealed record PairedTestResult(string Test, int Pairs, double MeanDifference, double Statistic, double PValue);

/// <summary>
/// Paired two-sided tests on per-user values of two methods over the same users (per-user NDCG@10 in
/// <c>compare</c>): Student's paired t-test, and the Wilcoxon signed-rank test, which does not assume the
/// differences are normal (per-user NDCG differences are mostly exact zeros and a few large values).
/// </summary>
public static class PairedTests
{
    /// <summary>Exact Wilcoxon distribution up to this many non-zero differences when none are tied; normal approximation above.</summary>
    public const int ExactWilcoxonLimit = 30;

    /// <summary>Paired t: t = mean(d) / (sd(d) / sqrt(n)), n - 1 degrees of freedom. Identical samples give t = 0, p = 1.</summary>
    public static PairedTestResult TTest(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        var d = Differences(a, b);
        int n = d.Length;
        if (n < 2) throw new ArgumentException($"A paired t-test needs at least 2 pairs, got {n}.", nameof(a));
        double mean = d.Average();
        double ss = d.Sum(x => (x - mean) * (x - mean));
        double sd = Math.Sqrt(ss / (n - 1));
        if (sd == 0) return new PairedTestResult("paired t", n, mean, mean == 0 ? 0 : Math.Sign(mean) * double.PositiveInfinity, mean == 0 ? 1 : 0);
        double t = mean / (sd / Math.Sqrt(n));
        return new PairedTestResult("paired t", n, mean, t, Distributions.StudentTwoSided(t, n - 1));
    }

    /// <summary>
    /// Wilcoxon signed-rank: zero differences are dropped (Wilcoxon's convention, as R and scipy do by default),
    /// the rest ranked by |d| with average ranks for ties; the statistic is W+ (the rank sum of positive
    /// differences). Exact p-value for at most <see cref="ExactWilcoxonLimit"/> untied differences; otherwise the
    /// normal approximation with the tie correction of the variance and a continuity correction (R's
    /// <c>wilcox.test(paired = TRUE, exact = FALSE, correct = TRUE)</c>). All differences zero: p = 1.
    /// </summary>
    public static PairedTestResult Wilcoxon(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        var all = Differences(a, b);
        double meanDifference = all.Length == 0 ? 0 : all.Average();
        var d = all.Where(x => x != 0).ToArray();
        int n = d.Length;
        if (n == 0) return new PairedTestResult("Wilcoxon signed-rank", all.Length, meanDifference, 0, 1);

        var order = Enumerable.Range(0, n).OrderBy(i => Math.Abs(d[i])).ToArray();
        var ranks = new double[n];
        double tieTerm = 0;
        bool ties = false;
        for (int start = 0; start < n;)
        {
            int end = start;
            while (end + 1 < n && Math.Abs(d[order[end + 1]]) == Math.Abs(d[order[start]])) end++;
            double rank = (start + end) / 2.0 + 1;
            for (int j = start; j <= end; j++) ranks[order[j]] = rank;
            int size = end - start + 1;
            if (size > 1) { ties = true; tieTerm += (double)size * size * size - size; }
            start = end + 1;
        }
        double wPlus = 0;
        for (int i = 0; i < n; i++) if (d[i] > 0) wPlus += ranks[i];

        double p;
        if (!ties && n <= ExactWilcoxonLimit) p = ExactWilcoxonTwoSided((int)Math.Round(wPlus), n);
        else
        {
            double mean = n * (n + 1) / 4.0;
            double variance = n * (n + 1) * (2.0 * n + 1) / 24 - tieTerm / 48;
            double diff = wPlus - mean;
            double z = variance <= 0 ? 0 : (diff - 0.5 * Math.Sign(diff)) / Math.Sqrt(variance);
            p = Distributions.NormalTwoSided(z);
        }
        return new PairedTestResult("Wilcoxon signed-rank", all.Length, meanDifference, wPlus, p);
    }

    /// <summary>Exact two-sided p of W+ = w with n untied non-zero differences: 2 * min(P(W &lt;= w), P(W &gt;= w)), capped at 1.</summary>
    public static double ExactWilcoxonTwoSided(int w, int n)
    {
        int max = n * (n + 1) / 2;
        // counts[s] = number of sign patterns whose positive ranks sum to s.
        var counts = new double[max + 1];
        counts[0] = 1;
        for (int r = 1; r <= n; r++)
            for (int s = max; s >= r; s--) counts[s] += counts[s - r];
        double total = Math.Pow(2, n);
        double lower = 0, upper = 0;
        for (int s = 0; s <= max; s++)
        {
            if (s <= w) lower += counts[s];
            if (s >= w) upper += counts[s];
        }
        return Math.Min(1, 2 * Math.Min(lower, upper) / total);
    }

    private static double[] Differences(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count != b.Count) throw new ArgumentException($"Paired samples must have the same length ({a.Count} against {b.Count}).", nameof(b));
        var d = new double[a.Count];
        for (int i = 0; i < d.Length; i++)
        {
            if (!double.IsFinite(a[i]) || !double.IsFinite(b[i])) throw new ArgumentException($"Pair {i} holds a non-finite value.", nameof(a));
            d[i] = a[i] - b[i];
        }
        return d;
    }
}
