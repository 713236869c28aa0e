namespace PopSteer.Retrainer;

/// <summary>
/// Exponentially decayed per-item interaction counts on the events' clock: an interaction at time t weighs
/// 2^-((T - t) / halfLife) at time T. Kept by forward decay (Cormode et al., ICDE 2009): each event adds
/// e^(lambda (t - landmark)) to its item, and reading at T multiplies by e^(-lambda (T - landmark)), so an event costs
/// O(1) whatever the catalogue size. The landmark moves forward (rescaling every count once) before the weights
/// could overflow. Not thread-safe: the tracker guards it.
/// </summary>
public sealed class DecayedCounts
{
    // e^40 ~ 2e17: far from double's range, and rescaling stays rare (every 40 / lambda of event time).
    private const double MaxExponent = 40;

    private readonly Dictionary<string, double> _scaled;
    private readonly double _lambda;

    public DecayedCounts(TimeSpan halfLife, DateTimeOffset landmark, IDictionary<string, double>? scaled = null)
    {
        if (halfLife <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(halfLife), halfLife, "The half-life must be positive.");
        HalfLife = halfLife;
        _lambda = Math.Log(2) / halfLife.TotalMilliseconds;
        Landmark = landmark;
        _scaled = scaled is null ? new(StringComparer.Ordinal) : new(scaled, StringComparer.Ordinal);
    }

    public TimeSpan HalfLife { get; }

    /// <summary>The time the stored weights are relative to.</summary>
    public DateTimeOffset Landmark { get; private set; }

    /// <summary>Latest event time seen: the "now" of <see cref="CountsAt"/> by default.</summary>
    public DateTimeOffset Latest { get; private set; } = DateTimeOffset.MinValue;

    public int Items => _scaled.Count;

    /// <summary>Weights relative to <see cref="Landmark"/> (what a checkpoint stores).</summary>
    public IReadOnlyDictionary<string, double> Scaled => _scaled;

    public void Add(string itemId, DateTimeOffset at, double weight = 1)
    {
        double exponent = _lambda * (at - Landmark).TotalMilliseconds;
        if (exponent > MaxExponent)
        {
            MoveLandmark(at);
            exponent = 0;
        }
        _scaled[itemId] = _scaled.GetValueOrDefault(itemId) + weight * Math.Exp(exponent);
        if (at > Latest) Latest = at;
    }

    /// <summary>The decayed count of every item at <paramref name="at"/> (default: the latest event time).</summary>
    public Dictionary<string, double> CountsAt(DateTimeOffset? at = null)
    {
        var when = at ?? (Latest == DateTimeOffset.MinValue ? Landmark : Latest);
        double factor = Math.Exp(-_lambda * (when - Landmark).TotalMilliseconds);
        return _scaled.ToDictionary(kv => kv.Key, kv => kv.Value * factor, StringComparer.Ordinal);
    }

    /// <summary>Restores the latest event time after a checkpoint is loaded.</summary>
    public void Restore(DateTimeOffset latest) => Latest = latest;

    private void MoveLandmark(DateTimeOffset to)
    {
        double factor = Math.Exp(-_lambda * (to - Landmark).TotalMilliseconds);
        foreach (var key in _scaled.Keys.ToList())
        {
            double v = _scaled[key] * factor;
            // Below 1e-9 of one event: nothing any distribution would notice. Dropping it keeps the table bounded.
            if (v < 1e-9) _scaled.Remove(key); else _scaled[key] = v;
        }
        Landmark = to;
    }
}
