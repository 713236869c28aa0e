using PopSteer.Core.Data;

namespace PopSteer.Core.Reranking;

/// <summary>
/// PCT, personalised calibration targets (METHOD.md section 8), with two groups: tail and the rest.
/// <list type="number">
/// <item>Each user's target tail exposure t_u comes from the tail share of their history, shifted by
/// <see cref="CalibrationTargets"/> (an LP) so that the batch's targets average exactly p. Every batch meets p on
/// its own, so any set of batches does too.</item>
/// <item>The list is filled greedily, position r = 0..K-1 with exposure weight w_r = 1/log2(r+2). Each step is an
/// MMR choice between the best remaining tail candidate and the best remaining other candidate (only those two can
/// win, since the calibration term depends only on the group):
/// <c>lambda * rel_i + (1 - lambda) * (1 - |t_u - E(prefix + i)|)</c>, rel_i the base score min-max normalised
/// over the user's top-<see cref="CandidateCount"/> candidates, E the tail share of exposure in the prefix.
/// lambda = 1 is the base ranking; lambda = 0 tracks the target as closely as the candidates allow.</item>
/// </list>
/// </summary>
public sealed class PctReranker : IReranker
{
    private readonly PopularityGroups _groups;

    public PctReranker(PopularityGroups groups, double p, double lambda, int candidates = 500)
    {
        ArgumentNullException.ThrowIfNull(groups);
        _groups = groups;
        P = RerankerArguments.OpenUnit(p, "PCT", nameof(p));
        Lambda = RerankerArguments.ClosedUnit(lambda, "PCT", nameof(lambda));
        CandidateCount = RerankerArguments.AtLeastOne(candidates, "PCT", nameof(candidates));
    }

    public string Name => "PCT";

    /// <summary>Global target tail exposure.</summary>
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

    /// <summary>The fraction of a history's items that are tail items (0 for an empty history).</summary>
    public double HistoryTailShare(int[] history)
    {
        if (history.Length == 0) return 0;
        int tail = 0, real = 0;
        foreach (int item in history)
        {
            if (item < 1 || item >= _groups.Counts.Length) continue; // padding
            real++;
            if (_groups[item] == PopularityGroup.Tail) tail++;
        }
        return real == 0 ? 0 : (double)tail / real;
    }

    /// <summary>The per-user targets this re-ranker would use for a batch of histories.</summary>
    public double[] Targets(IReadOnlyList<int[]> histories) =>
        CalibrationTargets.Solve(histories.Select(HistoryTailShare).ToArray(), P);

    public int[][] Rerank(ScoreBatch scores, IReadOnlyList<int[]> histories, int k)
    {
        RerankerArguments.CheckCall(scores, histories, k, _groups.Counts.Length, Name);
        var targets = Targets(histories);
        var lists = new int[scores.Users][];
        var tailQueue = new List<(int Item, double Score)>();
        var otherQueue = new List<(int Item, double Score)>();
        for (int u = 0; u < scores.Users; u++)
        {
            var row = scores.Row(u);
            var candidates = scores.Candidates(u, Math.Max(CandidateCount, k));
            tailQueue.Clear();
            otherQueue.Clear();
            foreach (int item in candidates)
                (_groups[item] == PopularityGroup.Tail ? tailQueue : otherQueue).Add((item, row[item]));
            if (candidates.Length == 0) { lists[u] = []; continue; }
            double worst = row[candidates[^1]];
            double range = row[candidates[0]] - worst;

            var list = new List<int>(k);
            int ti = 0, oi = 0;
            double tailWeight = 0, prefixWeight = 0;
            while (list.Count < k && (ti < tailQueue.Count || oi < otherQueue.Count))
            {
                double w = ExposureWeight(list.Count);
                bool takeTail;
                if (ti >= tailQueue.Count) takeTail = false;
                else if (oi >= otherQueue.Count) takeTail = true;
                else
                {
                    var (a, sa) = tailQueue[ti];
                    var (b, sb) = otherQueue[oi];
                    double ua = Utility(sa, (tailWeight + w) / (prefixWeight + w));
                    double ub = Utility(sb, tailWeight / (prefixWeight + w));
                    takeTail = ua > ub || (ua == ub && TopItems.Better(sa, a, sb, b));
                }
                if (takeTail) { list.Add(tailQueue[ti++].Item); tailWeight += w; }
                else list.Add(otherQueue[oi++].Item);
                prefixWeight += w;
            }
            lists[u] = [.. list];

            double Utility(double score, double exposure) =>
                Lambda * (range > 0 ? (score - worst) / range : 1.0) + (1 - Lambda) * (1 - Math.Abs(targets[u] - exposure));
        }
        return lists;
    }
}
