namespace PopSteer.Core.Reranking;

/// <summary>
/// P-MMF's projection step (Xu et al., WWW 2023): the dual variables mu live in
/// M = { mu : sum_{g in S} rho_g mu_g &gt;= -lambda for every set S of groups }, and the mirror-descent step with the
/// rho-weighted Euclidean mirror map projects mu~ onto M by
/// <code>
///   argmin_{mu in M} sum_g (rho_g mu_g - rho_g mu~_g)^2
/// </code>
/// (the authors state it over the prefixes of the groups sorted by rho_g mu~_g, which are the binding sets).
/// With y = rho * mu the feasible set is { y : sum_g min(y_g, 0) &gt;= -lambda }, and the KKT conditions give the exact
/// solution: positive entries stay, negative entries rise by one common tau &gt;= 0 and stop at 0, with tau chosen so
/// the negative parts sum to exactly -lambda. That is a sort of at most three numbers, so no general QP solver is
/// involved; the tests check it against the KKT conditions and a brute-force search.
/// </summary>
public static class MaxMinDualProjection
{
    public static double[] Project(IReadOnlyList<double> tildeMu, IReadOnlyList<double> rho, double lambda)
    {
        ArgumentNullException.ThrowIfNull(tildeMu);
        ArgumentNullException.ThrowIfNull(rho);
        if (tildeMu.Count != rho.Count) throw new ArgumentException($"{tildeMu.Count} duals but {rho.Count} budgets.", nameof(rho));
        RerankerArguments.NonNegative(lambda, "P-MMF", nameof(lambda));
        int m = tildeMu.Count;
        var y = new double[m];
        for (int g = 0; g < m; g++)
        {
            if (!double.IsFinite(rho[g]) || rho[g] < 0) throw new ArgumentOutOfRangeException(nameof(rho), rho[g], $"P-MMF: budget share rho[{g}] must be >= 0.");
            y[g] = rho[g] * tildeMu[g];
        }

        double negativeSum = y.Where(v => v < 0).Sum();
        if (negativeSum >= -lambda) return [.. tildeMu];

        // Negative entries ascending; with the c most negative still below zero after the shift,
        // tau = (-lambda - sum of those c) / c, valid when the c-th stays <= 0 and the (c+1)-th reaches >= 0.
        var negatives = y.Where(v => v < 0).OrderBy(v => v).ToArray();
        double tau = 0, prefix = 0;
        for (int c = 1; c <= negatives.Length; c++)
        {
            prefix += negatives[c - 1];
            double candidate = (-lambda - prefix) / c;
            bool lastStaysNegative = negatives[c - 1] + candidate <= 1e-15;
            bool nextReachesZero = c == negatives.Length || negatives[c] + candidate >= -1e-15;
            if (lastStaysNegative && nextReachesZero) { tau = candidate; break; }
        }

        var result = new double[m];
        for (int g = 0; g < m; g++)
        {
            double projected = y[g] < 0 ? Math.Min(y[g] + tau, 0) : y[g];
            result[g] = rho[g] > 0 ? projected / rho[g] : tildeMu[g];
        }
        return result;
    }
}
