namespace PopSteer.Core.Statistics;

/// <summary>
/// The two distribution functions the paired tests need: the standard normal and Student's t. Written out here
/// (a continued fraction for the incomplete beta, Lanczos for log-gamma, a Chebyshev fit for erfc) rather than
/// pulling in a numerics package for two functions; the tests check them against tabulated values.
/// </summary>
public static class Distributions
{
    /// <summary>P(Z &lt;= z) for a standard normal Z.</summary>
    public static double NormalCdf(double z) => 0.5 * Erfc(-z / Math.Sqrt(2));

    /// <summary>Two-sided p-value of a standard normal statistic: P(|Z| &gt;= |z|).</summary>
    public static double NormalTwoSided(double z) => Math.Min(1, Erfc(Math.Abs(z) / Math.Sqrt(2)));

    /// <summary>Two-sided p-value of Student's t with <paramref name="df"/> degrees of freedom: P(|T| &gt;= |t|).</summary>
    public static double StudentTwoSided(double t, double df)
    {
        if (df <= 0 || double.IsNaN(df)) throw new ArgumentOutOfRangeException(nameof(df), df, "Degrees of freedom must be > 0.");
        if (double.IsNaN(t)) return double.NaN;
        if (double.IsInfinity(t)) return 0;
        return Math.Min(1, RegularizedIncompleteBeta(df / 2, 0.5, df / (df + t * t)));
    }

    /// <summary>Complementary error function, fractional error below 1.2e-7 everywhere (Chebyshev fit).</summary>
    public static double Erfc(double x)
    {
        double z = Math.Abs(x);
        double t = 1 / (1 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
                   + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }

    /// <summary>ln Gamma(x) for x &gt; 0 (Lanczos, g = 7, 9 terms; about 15 significant digits).</summary>
    public static double LogGamma(double x)
    {
        if (x <= 0) throw new ArgumentOutOfRangeException(nameof(x), x, "LogGamma needs x > 0.");
        if (x < 0.5) return Math.Log(Math.PI / Math.Sin(Math.PI * x)) - LogGamma(1 - x);
        ReadOnlySpan<double> c =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
        ];
        x -= 1;
        double a = c[0];
        double t = x + 7.5;
        for (int i = 1; i < 9; i++) a += c[i] / (x + i);
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(a);
    }

    /// <summary>I_x(a, b), the regularized incomplete beta function, by its continued fraction (modified Lentz).</summary>
    public static double RegularizedIncompleteBeta(double a, double b, double x)
    {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        double front = Math.Exp(LogGamma(a + b) - LogGamma(a) - LogGamma(b) + a * Math.Log(x) + b * Math.Log(1 - x));
        // The fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) otherwise.
        return x < (a + 1) / (a + b + 2)
            ? front * BetaFraction(a, b, x) / a
            : 1 - front * BetaFraction(b, a, 1 - x) / b;
    }

    private static double BetaFraction(double a, double b, double x)
    {
        const double tiny = 1e-300, eps = 1e-15;
        double c = 1, d = 1 - (a + b) * x / (a + 1);
        if (Math.Abs(d) < tiny) d = tiny;
        d = 1 / d;
        double h = d;
        for (int m = 1; m <= 10_000; m++)
        {
            int m2 = 2 * m;
            double numerator = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
            d = 1 + numerator * d; if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + numerator / c; if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            h *= d * c;
            numerator = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
            d = 1 + numerator * d; if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + numerator / c; if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            double step = d * c;
            h *= step;
            if (Math.Abs(step - 1) < eps) return h;
        }
        throw new InvalidOperationException($"The incomplete beta fraction did not converge for a = {a}, b = {b}, x = {x}.");
    }
}
