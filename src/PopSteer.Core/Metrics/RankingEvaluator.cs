using PopSteer.Core.Data;

namespace PopSteer.Core.Metrics;

/// <summary>
/// Computes METHOD.md section 7 from top-K lists. The single code path for every number the CLI,
/// the services and the tests show.
/// </summary>
public static class RankingEvaluator
{
    /// <param name="lists">One ranked list of internal item ids per user (length K; shorter lists are allowed).</param>
    /// <param name="targets">The held-out item per user.</param>
    /// <param name="groups">Popularity groups and training counts (pop_i for ARP).</param>
    public static MetricSet Evaluate(IReadOnlyList<int[]> lists, IReadOnlyList<int> targets, PopularityGroups groups, int k = 10)
    {
        if (lists.Count != targets.Count) throw new ArgumentException($"{lists.Count} lists but {targets.Count} targets.");
        int n = groups.ItemCount;
        int users = lists.Count;
        var exposure = new long[n + 1];
        double ndcg = 0, hit = 0, mrr = 0, aplt = 0, arp = 0;
        var groupNdcg = new double[3];
        var groupUsers = new int[3];

        for (int u = 0; u < users; u++)
        {
            var list = lists[u];
            int len = Math.Min(k, list.Length);
            double userNdcg = 0;
            int longTail = 0;
            double popSum = 0;
            for (int r = 0; r < len; r++)
            {
                int item = list[r];
                if (item < 1 || item > n) throw new ArgumentOutOfRangeException(nameof(lists), item, $"List {u} holds an item id outside 1..{n}.");
                exposure[item]++;
                if (groups[item] != PopularityGroup.Head) longTail++;
                popSum += groups.Counts[item];
                if (item == targets[u])
                {
                    userNdcg = 1.0 / Math.Log2(r + 2);
                    hit += 1;
                    mrr += 1.0 / (r + 1);
                }
            }
            ndcg += userNdcg;
            aplt += (double)longTail / k;
            arp += len > 0 ? popSum / len : 0;
            int g = (int)groups[targets[u]];
            groupNdcg[g] += userNdcg;
            groupUsers[g]++;
        }

        double Mean(double sum) => users == 0 ? 0 : sum / users;
        double GroupMean(PopularityGroup g) => groupUsers[(int)g] == 0 ? 0 : groupNdcg[(int)g] / groupUsers[(int)g];

        return new MetricSet
        {
            Users = users,
            K = k,
            Ndcg = Mean(ndcg),
            Hit = Mean(hit),
            Mrr = Mean(mrr),
            Aplt = Mean(aplt),
            Arp = Mean(arp),
            Gini = Gini(exposure),
            TailCoverage = Coverage(exposure, groups, g => g == PopularityGroup.Tail),
            LongTailCoverage = Coverage(exposure, groups, g => g != PopularityGroup.Head),
            ItemCoverage = Coverage(exposure, groups, _ => true),
            NdcgHead = GroupMean(PopularityGroup.Head),
            NdcgMid = GroupMean(PopularityGroup.Mid),
            NdcgTail = GroupMean(PopularityGroup.Tail),
        };
    }

    /// <summary>Gini = sum_r (2r - n - 1) c_(r) / (n sum c), c ascending over all n items (index 0 ignored).</summary>
    public static double Gini(IReadOnlyList<long> exposure)
    {
        var c = exposure.Skip(1).OrderBy(x => x).ToArray();
        int n = c.Length;
        double total = c.Sum(x => (double)x);
        if (n == 0 || total == 0) return 0;
        double acc = 0;
        for (int r = 1; r <= n; r++) acc += (2.0 * r - n - 1) * c[r - 1];
        return acc / (n * total);
    }

    private static double Coverage(long[] exposure, PopularityGroups groups, Func<PopularityGroup, bool> inSet)
    {
        int members = 0, covered = 0;
        for (int i = 1; i < exposure.Length; i++)
        {
            if (!inSet(groups[i])) continue;
            members++;
            if (exposure[i] > 0) covered++;
        }
        return members == 0 ? 0 : (double)covered / members;
    }
}
