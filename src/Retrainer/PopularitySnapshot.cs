namespace PopSteer.Retrainer;

/// <summary>The live popularity at one moment: decayed counts by external item id, at the latest event time.</summary>
public sealed record PopularitySnapshot(
    IReadOnlyDictionary<string, double> Counts,
    DateTimeOffset At,
    long Events,
    long EventsSinceRefit);
