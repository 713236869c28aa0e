namespace PopSteer.Core.Statistics;

/// <summary>A percentile bootstrap interval around a point estimate.</summary>
public sealed record ConfidenceInterval(double Estimate, double Low, double High, double Level, int Resamples)
{
    /// <summary>True when the interval excludes <paramref name="value"/> (0 for a difference): the lead is outside the noise.</summary>
    public bool Excludes(double value = 0) => Low > value || High < value;
}

/// <summary>
/// The paired percentile bootstrap over users: draw the users with replacement (the same draw for both methods, so
/// their correlation is kept), recompute the statistic on each draw, and read the interval off the quantiles.
/// Works for statistics that are not per-user means, such as the difference of two Gini indices. Seeded, so a
/// report repeats exactly.
/// </summary>
public sealed class BootstrapInterval
{
    private readonly int[][] _draws;

    /// <param name="users">How many users the statistic is computed over.</param>
    public BootstrapInterval(int users, int resamples = 1000, int seed = 42, double level = 0.95)
    {
        if (users < 1) throw new ArgumentOutOfRangeException(nameof(users), users, "The bootstrap needs at least one user.");
        if (resamples < 10) throw new ArgumentOutOfRangeException(nameof(resamples), resamples, "Use at least 10 bootstrap resamples.");
        if (double.IsNaN(level) || level <= 0 || level >= 1) throw new ArgumentOutOfRangeException(nameof(level), level, "The level must lie strictly between 0 and 1.");
        Users = users;
        Resamples = resamples;
        Level = level;
        var random = new Random(seed);
        _draws = new int[resamples][];
        for (int b = 0; b < resamples; b++)
        {
            var draw = new int[users];
            for (int i = 0; i < users; i++) draw[i] = random.Next(users);
            _draws[b] = draw;
        }
    }

    public int Users { get; }
    public int Resamples { get; }
    public double Level { get; }

    /// <summary>The interval of <paramref name="statistic"/>, evaluated on the identity draw for the estimate and on every resample.</summary>
    public ConfidenceInterval Of(Func<IReadOnlyList<int>, double> statistic)
    {
        ArgumentNullException.ThrowIfNull(statistic);
        double estimate = statistic(Enumerable.Range(0, Users).ToArray());
        var values = new double[Resamples];
        for (int b = 0; b < Resamples; b++) values[b] = statistic(_draws[b]);
        Array.Sort(values);
        double tail = (1 - Level) / 2;
        return new ConfidenceInterval(estimate, Quantile(values, tail), Quantile(values, 1 - tail), Level, Resamples);
    }

    /// <summary>The interval of the mean of per-user differences a_u - b_u.</summary>
    public ConfidenceInterval MeanDifference(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count != Users || b.Count != Users) throw new ArgumentException($"Expected {Users} values per method, got {a.Count} and {b.Count}.");
        var d = new double[Users];
        for (int i = 0; i < Users; i++) d[i] = a[i] - b[i];
        return Of(draw =>
        {
            double sum = 0;
            foreach (int u in draw) sum += d[u];
            return sum / draw.Count;
        });
    }

    /// <summary>Linear interpolation between order statistics (type 7, the R and numpy default).</summary>
    public static double Quantile(double[] sorted, double q)
    {
        double h = (sorted.Length - 1) * q;
        int lo = (int)Math.Floor(h);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }
}
