using PopSteer.Core.Data;

namespace PopSteer.Core.Reranking;

/// <summary>
/// FA*IR (Zehlike et al., CIKM 2017) with the long tail as the protected group (METHOD.md section 8).
/// From each user's top-<see cref="CandidateCount"/> items by base score, two queues are formed, protected
/// (tail) and non-protected (head and mid), each in base-score order. Position by position: if the prefix holds
/// fewer protected items than m(k), the best protected item goes next; otherwise the better of the two queue
/// heads does. Order within each group is therefore the base order. m is the binomial minimum table at target
/// proportion p and the adjusted significance alpha_c = 1 - (1 - alpha)^(1/K). When the candidates run out of
/// tail items the table cannot be met and the remaining positions are filled from the other queue.
/// </summary>
public sealed class FairReranker : IReranker
{
    private readonly PopularityGroups _groups;
    private readonly Dictionary<int, int[]> _tables = [];

    public FairReranker(PopularityGroups groups, double p, double alpha, int candidates = 500)
    {
        ArgumentNullException.ThrowIfNull(groups);
        _groups = groups;
        P = RerankerArguments.OpenUnit(p, "FA*IR", nameof(p));
        Alpha = RerankerArguments.OpenUnit(alpha, "FA*IR", nameof(alpha));
        CandidateCount = RerankerArguments.AtLeastOne(candidates, "FA*IR", nameof(candidates));
    }

    public string Name => "FA*IR";

    /// <summary>Target minimum proportion of protected (tail) items.</summary>
    public double P { get; }

    /// <summary>Significance before adjustment.</summary>
    public double Alpha { get; }

    public int CandidateCount { get; }

    public IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["p"] = P, ["alpha"] = Alpha };

    /// <summary>m[0..k] as used for lists of length k (adjusted significance).</summary>
    public int[] MinimumTable(int k)
    {
        lock (_tables)
        {
            if (!_tables.TryGetValue(k, out var table))
            {
                table = FairMinimumTable.Create(k, P, FairMinimumTable.AdjustedSignificance(Alpha, k));
                _tables[k] = table;
            }
            return table;
        }
    }

    public int[][] Rerank(ScoreBatch scores, IReadOnlyList<int[]> histories, int k)
    {
        RerankerArguments.CheckCall(scores, histories, k, _groups.Counts.Length, Name);
        var table = MinimumTable(k);
        var lists = new int[scores.Users][];
        var protectedQueue = new List<int>(CandidateCount);
        var otherQueue = new List<int>(CandidateCount);
        for (int u = 0; u < scores.Users; u++)
        {
            var row = scores.Row(u);
            protectedQueue.Clear();
            otherQueue.Clear();
            // Never fewer candidates than positions, so a short pool cannot shorten the list.
            foreach (int item in scores.Candidates(u, Math.Max(CandidateCount, k)))
                (_groups[item] == PopularityGroup.Tail ? protectedQueue : otherQueue).Add(item);

            var list = new List<int>(k);
            int tp = 0, np = 0, protectedCount = 0;
            while (list.Count < k && (tp < protectedQueue.Count || np < otherQueue.Count))
            {
                int position = list.Count + 1;
                bool takeProtected;
                if (tp >= protectedQueue.Count) takeProtected = false;
                else if (np >= otherQueue.Count) takeProtected = true;
                else if (protectedCount < table[position]) takeProtected = true;
                else
                {
                    int a = protectedQueue[tp], b = otherQueue[np];
                    takeProtected = TopItems.Better(row[a], a, row[b], b);
                }
                if (takeProtected) { list.Add(protectedQueue[tp++]); protectedCount++; }
                else list.Add(otherQueue[np++]);
            }
            lists[u] = [.. list];
        }
        return lists;
    }
}
