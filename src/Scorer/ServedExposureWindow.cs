using PopSteer.Core.Data;
using PopSteer.Core.Metrics;

namespace PopSteer.Scorer;

/// <summary>
/// The last N served lists of one model version, for the live popularity metrics: tail share (share of served
/// slots that are tail items, METHOD.md section 4 groups) and Gini@K over all items (section 7, through the one
/// <see cref="RankingEvaluator.Gini"/>). Written by the loop, read by metric collection: guarded by a lock.
/// </summary>
public sealed class ServedExposureWindow(int capacity)
{
    private readonly object _gate = new();
    private readonly Queue<int[]> _lists = new();
    private long[] _exposure = [0];
    private PopularityGroups? _groups;
    private long _slots;
    private long _tailSlots;

    /// <summary>Starts over for a new model: item ids and groups belong to one version.</summary>
    public void Reset(PopularityGroups groups)
    {
        lock (_gate)
        {
            _groups = groups;
            _exposure = new long[groups.ItemCount + 1];
            _lists.Clear();
            _slots = _tailSlots = 0;
        }
    }

    public void Add(int[] items)
    {
        lock (_gate)
        {
            if (_groups is null) return;
            _lists.Enqueue(items);
            Count(items, +1);
            while (_lists.Count > capacity) Count(_lists.Dequeue(), -1);
        }
    }

    public int Lists { get { lock (_gate) return _lists.Count; } }

    public double TailShare
    {
        get { lock (_gate) return _slots == 0 ? 0 : (double)_tailSlots / _slots; }
    }

    public double Gini
    {
        get { lock (_gate) return RankingEvaluator.Gini(_exposure); }
    }

    private void Count(int[] items, int sign)
    {
        foreach (var item in items)
        {
            _exposure[item] += sign;
            _slots += sign;
            if (_groups![item] == PopularityGroup.Tail) _tailSlots += sign;
        }
    }
}
