namespace PopSteer.Retrainer;

/// <summary>
/// Everything the tracker must not lose: the decayed counts, event totals, the next offset to apply per source
/// partition (so a message redelivered after a crash between checkpoint and commit is not counted twice) and the
/// users seen since the last checkpoint (remembered for refits).
/// </summary>
public sealed class PopularityState(DecayedCounts counts)
{
    public DecayedCounts Counts { get; set; } = counts;

    /// <summary>Valid interactions counted since the tracker first started.</summary>
    public long Events { get; set; }

    /// <summary>Valid interactions counted since the last refit attempt.</summary>
    public long EventsSinceRefit { get; set; }

    /// <summary>"topic:partition" -> the next offset to apply.</summary>
    public Dictionary<string, long> NextOffsets { get; } = new(StringComparer.Ordinal);

    /// <summary>Users with an event since the last checkpoint -> their latest event time (unix ms).</summary>
    public Dictionary<string, long> RecentUsers { get; } = new(StringComparer.Ordinal);

    public static string SourceField(string topic, int partition) => $"{topic}:{partition}";
}
