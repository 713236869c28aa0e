using HdrHistogram;
using PopSteer.Core.Data;

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
    public ServedListWindow Served { get; } = new(groups, int.MaxValue);
    public ServedListWindow SampleServed { get; } = new(groups, int.MaxValue);
    public ServedListWindow SampleShadow { get; } = new(groups, int.MaxValue);

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
