using HdrHistogram;
using PopSteer.Core.Data;
using PopSteer.Scorer;

namespace PopSteer.Cli.Demo;

/// <summary>
/// Everything served in one phase of the story (before the drift, after it with the stale model, after the refit) at
/// one alpha (attributed by the alpha each recommendation carries, so lists made just before a change count for the
/// old value): volume, latency, the fairness of the served lists beside the unsteered shadow and, after a refit, the
/// stale model on the same sampled users, and NDCG@10 of each against the user's next live event.
/// </summary>
internal sealed class PhaseStatistics(string phase, double alpha, PopularityGroups groups)
{
    private readonly LongHistogram _latency = new(3_600_000_000L, 3);
    private readonly Lock _gate = new();
    private readonly PopularityGroups _groups = groups;

    public string Phase { get; } = phase;
    public double Alpha { get; } = alpha;
    public long Recommendations { get; private set; }
    public ServedExposureWindow Served { get; } = Window(groups, int.MaxValue);
    public ServedExposureWindow SampleServed { get; } = Window(groups, int.MaxValue);
    public ServedExposureWindow SampleShadow { get; } = Window(groups, int.MaxValue);
    public ServedExposureWindow SampleStale { get; } = Window(groups, int.MaxValue);
    public RunningMean NdcgServed { get; } = new();
    public RunningMean NdcgShadow { get; } = new();
    public RunningMean NdcgStale { get; } = new();
    /// <summary>Per sampled list: served minus unsteered tail share (steering's lift), served minus stale, NDCG served minus stale.</summary>
    public PairedDifference TailLift { get; } = new();
    public PairedDifference TailVsStale { get; } = new();
    public PairedDifference NdcgVsStale { get; } = new();

    /// <summary>Share of a list's slots that are tail items in this phase's groups (0 for an empty list).</summary>
    public double TailShareOf(int[] list) => list.Length == 0 ? 0 : list.Count(i => _groups[i] == PopularityGroup.Tail) / (double)list.Length;

    /// <summary>The Scorer's own sliding window of served lists (tail share, Gini@K), so the demo measures the same way.</summary>
    public static ServedExposureWindow Window(PopularityGroups groups, int capacity)
    {
        var window = new ServedExposureWindow(capacity);
        window.Reset(groups);
        return window;
    }

    public void Add(int[] list, TimeSpan latency, double ndcg)
    {
        Served.Add(list);
        NdcgServed.Add(ndcg);
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

/// <summary>A thread-safe mean that ignores NaN (a user's last event has no next one to score against).</summary>
internal sealed class RunningMean
{
    private readonly Lock _gate = new();
    private double _sum;
    private long _count;

    public void Add(double value)
    {
        if (double.IsNaN(value)) return;
        lock (_gate)
        {
            _sum += value;
            _count++;
        }
    }

    public long Count { get { lock (_gate) return _count; } }
    public double Mean { get { lock (_gate) return _count == 0 ? double.NaN : _sum / _count; } }
}
