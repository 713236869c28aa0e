using PopSteer.Core.Data;
using PopSteer.Core.Metrics;

namespace PopSteer.Cli.Demo;

/// <summary>
/// The last <c>capacity</c> served top-K lists and the exposure counts they add up to, so the demo can show the
/// tail share and Gini of what users are being shown right now rather than since the start.
/// </summary>
internal sealed class ServedListWindow
{
    private readonly Queue<int[]> _lists = new();
    private readonly long[] _exposure;
    private readonly PopularityGroups _groups;
    private readonly int _capacity;
    private long _tailExposure;
    private long _totalExposure;
    private readonly Lock _gate = new();

    public ServedListWindow(PopularityGroups groups, int capacity = 2000)
    {
        _groups = groups;
        _capacity = capacity;
        _exposure = new long[groups.ItemCount + 1];
    }

    public void Add(int[] list)
    {
        lock (_gate)
        {
            Apply(list, +1);
            _lists.Enqueue(list);
            if (_lists.Count > _capacity) Apply(_lists.Dequeue(), -1);
        }
    }

    public int Count { get { lock (_gate) return _lists.Count; } }

    /// <summary>Share of served slots that went to tail items.</summary>
    public double TailShare { get { lock (_gate) return _totalExposure == 0 ? 0 : (double)_tailExposure / _totalExposure; } }

    /// <summary>Gini@K of exposure over all items, the same formula as the offline metric.</summary>
    public double Gini { get { lock (_gate) return RankingEvaluator.Gini(_exposure); } }

    private void Apply(int[] list, int sign)
    {
        foreach (var item in list)
        {
            if (item < 1 || item >= _exposure.Length) continue;
            _exposure[item] += sign;
            _totalExposure += sign;
            if (_groups[item] == PopularityGroup.Tail) _tailExposure += sign;
        }
    }
}
