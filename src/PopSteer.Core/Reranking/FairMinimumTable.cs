namespace PopSteer.Core.Reranking;

/// <summary>
/// FA*IR's ranked group fairness test (Zehlike et al., CIKM 2017, Definition 3.1): a prefix of length k with
/// tau_p protected items represents the protected group fairly at proportion p and significance alpha when
/// F(tau_p; k, p) &gt; alpha, F the binomial CDF. The minimum table m(k) is the smallest such tau_p, i.e. the
/// binomial inverse CDF at alpha.
/// </summary>
public static class FairMinimumTable
{
    /// <summary>
    /// The multiple-test correction METHOD.md prescribes: alpha_c = 1 - (1 - alpha)^(1/K), so that K prefix tests
    /// together reject a fair ranking with probability about alpha.
    /// </summary>
    public static double AdjustedSignificance(double alpha, int k)
    {
        RerankerArguments.OpenUnit(alpha, "FA*IR", nameof(alpha));
        RerankerArguments.AtLeastOne(k, "FA*IR", nameof(k));
        return 1.0 - Math.Pow(1.0 - alpha, 1.0 / k);
    }

    /// <summary>m[0..k]: m[j] = minimum protected count among the top j (m[0] = 0) at significance <paramref name="significance"/>.</summary>
    public static int[] Create(int k, double p, double significance)
    {
        RerankerArguments.AtLeastOne(k, "FA*IR", nameof(k));
        RerankerArguments.OpenUnit(p, "FA*IR", nameof(p));
        RerankerArguments.OpenUnit(significance, "FA*IR", nameof(significance));
        var table = new int[k + 1];
        for (int j = 1; j <= k; j++) table[j] = InverseCdf(j, p, significance);
        return table;
    }

    /// <summary>Smallest x in 0..n with F(x; n, p) &gt; alpha.</summary>
    public static int InverseCdf(int n, double p, double alpha)
    {
        // The binomial pmf in log space by its ratio recurrence: (1-p)^n underflows for long prefixes and large p.
        double logP = Math.Log(p), logQ = double.LogP1(-p);
        double logPmf = n * logQ;
        double cdf = 0;
        for (int x = 0; x <= n; x++)
        {
            cdf += Math.Exp(logPmf);
            if (cdf > alpha) return x;
            logPmf += Math.Log(n - x) - Math.Log(x + 1) + logP - logQ;
        }
        return n;
    }
}
