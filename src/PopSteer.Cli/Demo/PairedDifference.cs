namespace PopSteer.Cli.Demo;

/// <summary>
/// The mean of per-list differences between two lists for the same user and event (served minus a shadow), with its
/// standard error, so a summary row can say whether a difference is beyond noise. Lists of one user are correlated
/// (consecutive events share most of their history), so the standard error, which treats them as independent, is a
/// lower bound. Welford's update; thread-safe; NaN values (no next event to score against) are skipped.
/// </summary>
internal sealed class PairedDifference
{
    private readonly Lock _gate = new();
    private long _count;
    private double _mean;
    private double _m2;

    public void Add(double a, double b)
    {
        double d = a - b;
        if (double.IsNaN(d)) return;
        lock (_gate)
        {
            _count++;
            double delta = d - _mean;
            _mean += delta / _count;
            _m2 += delta * (d - _mean);
        }
    }

    public long Count { get { lock (_gate) return _count; } }
    public double Mean { get { lock (_gate) return _count == 0 ? double.NaN : _mean; } }

    /// <summary>Standard error of the mean difference; NaN below two pairs.</summary>
    public double StandardError { get { lock (_gate) return _count < 2 ? double.NaN : Math.Sqrt(_m2 / (_count - 1) / _count); } }

    /// <summary>Whether the mean lies more than two standard errors from zero.</summary>
    public bool BeyondNoise => Math.Abs(Mean) > 2 * StandardError;
}
