namespace PopSteer.Core.Data;

public enum PopularityGroup : byte { Mid = 0, Head = 1, Tail = 2 }

/// <summary>
/// METHOD.md section 4: head = most popular items whose cumulative share of interactions stays within
/// <c>share</c>, tail = least popular items whose cumulative share stays within <c>share</c>, the rest mid.
/// Counts are over training targets. Indexed by internal item id; index 0 (padding) is Mid and ignored.
/// </summary>
public sealed class PopularityGroups
{
    public PopularityGroups(long[] counts, PopularityGroup[] groups, double share)
    {
        if (counts.Length != groups.Length) throw new ArgumentException("counts and groups differ in length");
        Counts = counts;
        Groups = groups;
        Share = share;
    }

    /// <summary>c_i per internal id (index 0 = padding, always 0).</summary>
    public long[] Counts { get; }
    public PopularityGroup[] Groups { get; }
    public double Share { get; }
    public int ItemCount => Counts.Length - 1;

    public PopularityGroup this[int item] => Groups[item];
    public IEnumerable<int> Items(PopularityGroup g) => Enumerable.Range(1, ItemCount).Where(i => Groups[i] == g);
    public int Size(PopularityGroup g) => Items(g).Count();

    /// <summary>
    /// <paramref name="share"/>, or where that leaves the head or the tail empty (one item alone holds more than the
    /// share: a small or very skewed catalogue), the smallest of share + 0.05, + 0.10, ... up to 0.5 that gives both
    /// groups an item. The neuron analysis needs both; the caller records and reports the share it used.
    /// </summary>
    public static double ShareWithBothGroups(long[] counts, double share)
    {
        for (double s = share; s <= 0.5 + 1e-9; s = Math.Round(s + 0.05, 10))
        {
            var groups = FromCounts(counts, s);
            if (groups.Size(PopularityGroup.Head) > 0 && groups.Size(PopularityGroup.Tail) > 0) return s;
        }
        return share;
    }

    /// <summary>Builds the groups from per-item counts (index 0 ignored). Ties broken by item id for determinism.</summary>
    public static PopularityGroups FromCounts(long[] counts, double share = 0.2)
    {
        if (share is <= 0 or >= 1 || double.IsNaN(share))
            throw new ArgumentOutOfRangeException(nameof(share), share, "The head/tail share must lie in (0, 1).");
        int n = counts.Length - 1;
        var groups = new PopularityGroup[counts.Length];
        double total = 0;
        for (int i = 1; i <= n; i++) total += counts[i];
        if (total <= 0) return new PopularityGroups(counts, groups, share);

        var desc = Enumerable.Range(1, n).OrderByDescending(i => counts[i]).ThenBy(i => i).ToArray();
        double cum = 0;
        foreach (var i in desc)
        {
            cum += counts[i];
            if (cum / total <= share + 1e-12) groups[i] = PopularityGroup.Head; else break;
        }
        cum = 0;
        for (int r = desc.Length - 1; r >= 0; r--)
        {
            int i = desc[r];
            cum += counts[i];
            if (cum / total > share + 1e-12) break;
            if (groups[i] != PopularityGroup.Head) groups[i] = PopularityGroup.Tail;
        }
        return new PopularityGroups(counts, groups, share);
    }
}
