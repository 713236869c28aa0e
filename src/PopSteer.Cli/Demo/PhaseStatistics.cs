using HdrHistogram;
using PopSteer.Core.Data;
using PopSteer.Scorer;

namespace PopSteer.Cli.Demo;

/// <summary>
/// Everything served while one alpha was in force (attributed by the alpha each recommendation carries, so lists made
/// just before a change count for the old value): volume, latency, and the fairness of the served lists beside the
/// unsteered shadow on the same sampled users.
/// </summary>
internal sealed class PhaseStatistics(double alpha, PopularityGroups groups)
{
    private readonly LongHistogram _latency = new(3_600_000_000L, 3);
    private readonly Lock _gate = new();

    public double Alpha { get; } = alpha;
    public long Recommendations { get; private set; }
    public ServedExposureWindow Served { get; } = Window(groups, int.MaxValue);
    public ServedExposureWindow SampleServed { get; } = Window(groups, int.MaxValue);
    public ServedExposureWindow SampleShadow { get; } = Window(groups, int.MaxValue);

    /// <summary>The Scorer's own sliding window of served lists (tail share, Gini@K), so the demo measures the same way.</summary>
    public static ServedExposureWindow Window(PopularityGroups groups, int capacity)
    {
        var window = new ServedExposureWindow(capacity);
        window.Reset(groups);
        return window;
    }

    public void Add(int[] list, TimeSpan latency)
    {
        Served.Add(list);
        lock (_gate)
        {
            Recommendations++;
            _latency.RecordValue(Math.Clamp((long)latency.TotalMicroseconds, 1, _latency.HighestTrackableValue));
        }
    }

    public (double P50, double P99) LatencyMs()
    {
        lock (_gate)
            return _latency.TotalCount == 0 ? (double.NaN, double.NaN)
                : (_latency.GetValueAtPercentile(50) / 1000.0, _latency.GetValueAtPercentile(99) / 1000.0);
    }
}
