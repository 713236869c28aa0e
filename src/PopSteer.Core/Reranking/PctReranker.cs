using PopSteer.Core.Data;

namespace PopSteer.Core.Reranking;

/// <summary>
/// PCT, personalised calibration targets (METHOD.md section 8), with two groups: tail and the rest, as the
/// authors' RecBole code runs it (parepic/PopSteer, <c>pct_rerank</c>; docs/rerank.md lists what differs).
/// <list type="number">
/// <item>Each user's target tail share t_u starts at the tail share of their history (p for an empty history) and
/// is shifted by <see cref="CalibrationTargets"/> (an LP) so that the batch's targets average exactly p. The targets
/// are exposure budgets: tail t_u * E, rest (1 - t_u) * E, with E = sum of the position weights
/// w_r = 1/log2(r + 2) over the K positions.</item>
/// <item>Greedy fill: position by position, the best-ranked unplaced candidate whose group still has room for
/// w_r inside its budget takes the position; a position where neither group has room stays empty.</item>
/// <item>MMR fill of the empty positions, in order: the candidate maximising
/// <c>lambda / (rank + 1) - (1 - lambda) * 0.5 * sum over both groups of (exposure after placing it - budget)^2</c>,
/// rank the candidate's 0-based place in the base ranking. Ties go to the better-ranked candidate.</item>
/// </list>
/// Both steps only ever take the best-ranked unplaced item of a group (the budget and the distance depend on the
/// group alone, the relevance falls with rank), so each group is consumed in base order from one pointer.
/// The candidates are the whole ranking by default, as in the authors' code.
/// </summary>
public sealed class PctReranker : IReranker
{
    private const int Rest = 0, TailGroup = 1;
    private readonly PopularityGroups _groups;

    /// <param name="candidates">Candidate pool (top by base score); null = every item, as the authors rank.</param>
    public PctReranker(PopularityGroups groups, double p, double lambda, int? candidates = null)
    {
        ArgumentNullException.ThrowIfNull(groups);
        _groups = groups;
        P = RerankerArguments.OpenUnit(p, "PCT", nameof(p));
        Lambda = RerankerArguments.ClosedUnit(lambda, "PCT", nameof(lambda));
        CandidateCount = RerankerArguments.AtLeastOne(candidates ?? groups.ItemCount, "PCT", nameof(candidates));
    }

    public string Name => "PCT";

    /// <summary>Global target tail share of exposure.</summary>
    public double P { get; }

    /// <summary>Weight of relevance against calibration in the MMR step.</summary>
    public double Lambda { get; }

    public int CandidateCount { get; }

    public IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["p"] = P, ["lambda"] = Lambda };

    /// <summary>Exposure weight of (0-based) position r.</summary>
    public static double ExposureWeight(int position) => 1.0 / Math.Log2(position + 2);

    /// <summary>Tail share of a list's exposure: sum of w_r over tail items / sum of w_r over the list.</summary>
    public static double TailExposure(IReadOnlyList<int> list, PopularityGroups groups)
    {
        double tail = 0, total = 0;
        for (int r = 0; r < list.Count; r++)
        {
            double w = ExposureWeight(r);
            total += w;
            if (groups[list[r]] == PopularityGroup.Tail) tail += w;
        }
        return total == 0 ? 0 : tail / total;
    }

    /// <summary>The fraction of a history's items that are tail items; p for a history with no real item (the authors' fallback).</summary>
    public double HistoryTailShare(int[] history)
    {
        int tail = 0, real = 0;
        foreach (int item in history)
        {
            if (item < 1 || item >= _groups.Counts.Length) continue; // padding
            real++;
            if (_groups[item] == PopularityGroup.Tail) tail++;
        }
        return real == 0 ? P : (double)tail / real;
    }

    /// <summary>The per-user target tail shares this re-ranker would use for a batch of histories.</summary>
    public double[] Targets(IReadOnlyList<int[]> histories) =>
        CalibrationTargets.Solve(histories.Select(HistoryTailShare).ToArray(), P);

    public int[][] Rerank(ScoreBatch scores, IReadOnlyList<int[]> histories, int k)
    {
        RerankerArguments.CheckCall(scores, histories, k, _groups.Counts.Length, Name);
        var targets = Targets(histories);
        var weights = Enumerable.Range(0, k).Select(ExposureWeight).ToArray();
        double budget = weights.Sum();
        var lists = new int[scores.Users][];
        // Per group: the base ranks of its candidates, best first.
        var queues = new[] { new List<int>(), new List<int>() };
        for (int u = 0; u < scores.Users; u++)
        {
            var candidates = scores.Candidates(u, Math.Min(Math.Max(CandidateCount, k), scores.Columns - 1));
            queues[Rest].Clear();
            queues[TailGroup].Clear();
            for (int rank = 0; rank < candidates.Length; rank++)
                queues[GroupOf(candidates[rank])].Add(rank);
            double[] target = [(1 - targets[u]) * budget, targets[u] * budget];
            var exposure = new double[2];
            var next = new int[2];
            var slots = new int[k];
            Array.Fill(slots, -1);

            // Greedy fill within the budgets.
            for (int pos = 0; pos < k; pos++)
            {
                int best = -1;
                for (int g = 0; g < 2; g++)
                {
                    if (next[g] >= queues[g].Count || exposure[g] + weights[pos] > target[g] + 1e-12) continue;
                    if (best < 0 || queues[g][next[g]] < queues[best][next[best]]) best = g;
                }
                if (best < 0) continue;
                slots[pos] = queues[best][next[best]++];
                exposure[best] += weights[pos];
            }

            // MMR fill of the positions left empty.
            for (int pos = 0; pos < k; pos++)
            {
                if (slots[pos] >= 0) continue;
                int best = -1;
                double bestValue = double.NegativeInfinity;
                for (int g = 0; g < 2; g++)
                {
                    if (next[g] >= queues[g].Count) continue;
                    int rank = queues[g][next[g]];
                    double distance = 0;
                    for (int h = 0; h < 2; h++)
                    {
                        double after = exposure[h] + (h == g ? weights[pos] : 0);
                        distance += (after - target[h]) * (after - target[h]);
                    }
                    double value = Lambda / (rank + 1) - (1 - Lambda) * 0.5 * distance;
                    if (value > bestValue || (value == bestValue && rank < queues[best][next[best]])) { bestValue = value; best = g; }
                }
                if (best < 0) break; // no candidate left in either group
                slots[pos] = queues[best][next[best]++];
                exposure[best] += weights[pos];
            }
            lists[u] = slots.Where(rank => rank >= 0).Select(rank => candidates[rank]).ToArray();
        }
        return lists;
    }

    private int GroupOf(int item) => _groups[item] == PopularityGroup.Tail ? TailGroup : Rest;
}
