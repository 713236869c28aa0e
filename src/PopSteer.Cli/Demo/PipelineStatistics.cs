using HdrHistogram;

namespace PopSteer.Cli.Demo;

/// <summary>
/// Counters the demo's live view reads: rates over the last tick, and event-to-recommendation latency
/// percentiles from an HDR histogram (interval and whole-run).
/// </summary>
internal sealed class PipelineStatistics
{
    private readonly Recorder _interval = new(1, 3_600_000_000L, 3, (id, low, high, digits) => new LongHistogram(low, high, digits));
    private readonly LongHistogram _total = new(3_600_000_000L, 3);
    // Consumer groups join and rebalance in the first seconds (librdkafka's mock cluster, like Kafka, holds the first
    // assignment a few seconds), so what queues then says nothing about the pipeline's steady pace: kept apart.
    private readonly LongHistogram _steady = new(3_600_000_000L, 3);
    private DateTime? _firstRecommendationAt;
    private readonly Lock _gate = new();
    private long _events;
    private long _recommendations;
    private long _lastEvents;
    private long _lastRecommendations;
    private DateTime _lastTick = DateTime.UtcNow;

    public long Events => Interlocked.Read(ref _events);
    public long Recommendations => Interlocked.Read(ref _recommendations);

    /// <summary>The replayer reports how many events it has produced so far.</summary>
    public void EventsProduced(long total) => Interlocked.Exchange(ref _events, total);

    public void RecommendationReceived(TimeSpan latency)
    {
        Interlocked.Increment(ref _recommendations);
        long micros = Math.Max(1, (long)latency.TotalMicroseconds);
        _interval.RecordValue(micros);
        lock (_gate)
        {
            var now = DateTime.UtcNow;
            _firstRecommendationAt ??= now;
            _total.RecordValue(Math.Min(micros, _total.HighestTrackableValue));
            if (now - _firstRecommendationAt.Value >= WarmUp) _steady.RecordValue(Math.Min(micros, _steady.HighestTrackableValue));
        }
    }

    /// <summary>Recommendations in this first stretch of the run are left out of <see cref="SteadyLatency"/>.</summary>
    public static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(10);

    /// <summary>Rates and latency since the previous call.</summary>
    public Snapshot Tick()
    {
        var now = DateTime.UtcNow;
        double seconds = Math.Max(1e-3, (now - _lastTick).TotalSeconds);
        long events = Events, recs = Recommendations;
        var histogram = _interval.GetIntervalHistogram();
        var snapshot = new Snapshot(
            (events - _lastEvents) / seconds,
            (recs - _lastRecommendations) / seconds,
            Millis(histogram, 50), Millis(histogram, 99));
        _lastEvents = events;
        _lastRecommendations = recs;
        _lastTick = now;
        return snapshot;
    }

    /// <summary>Whole-run latency percentiles in milliseconds.</summary>
    public (double P50, double P99, double Max) TotalLatency()
    {
        lock (_gate)
            return (Millis(_total, 50), Millis(_total, 99), _total.TotalCount == 0 ? 0 : _total.GetMaxValue() / 1000.0);
    }

    /// <summary>Latency percentiles of the recommendations received after the first <see cref="WarmUp"/>; count 0 when the run was shorter.</summary>
    public (double P50, double P99, long Count) SteadyLatency()
    {
        lock (_gate) return (Millis(_steady, 50), Millis(_steady, 99), _steady.TotalCount);
    }

    private static double Millis(HistogramBase h, double percentile) =>
        h.TotalCount == 0 ? double.NaN : h.GetValueAtPercentile(percentile) / 1000.0;

    internal readonly record struct Snapshot(double EventsPerSecond, double RecommendationsPerSecond, double LatencyP50Ms, double LatencyP99Ms);
}
