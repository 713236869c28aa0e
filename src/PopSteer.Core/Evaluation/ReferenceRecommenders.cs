using PopSteer.Core.Data;
using PopSteer.Core.Metrics;

namespace PopSteer.Core.Evaluation;

/// <summary>
/// MostPop and Last item: what a recommender gets without learning anything. On data where most interactions repeat
/// the previous item (listening logs, Wikipedia edits) Last item is strong, and an almost untrained SASRec with a tied
/// item table behaves like it; on MovieLens (no repeats) it is near zero. Popularity is the training-target count
/// c_i (<see cref="PopularityGroups.Counts"/>, the same counts as the popularity groups); ties go to the lower id.
/// Lists go through <see cref="RankingEvaluator"/>, the one metrics path.
/// </summary>
public static class ReferenceRecommenders
{
    public static string DisplayName(ReferenceRecommender method) => method switch
    {
        ReferenceRecommender.MostPop => "MostPop",
        ReferenceRecommender.LastItem => "Last item",
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, null),
    };

    /// <summary>One ranked list of internal ids per case, in case order (at most <paramref name="k"/> items, fewer only when the catalogue is smaller).</summary>
    /// <param name="maskHistory">Never list an item of the case's history (then Last item is MostPop without the history).</param>
    public static int[][] Lists(ReferenceRecommender method, PopularityGroups groups, IReadOnlyList<EvaluationCase> cases, int k = 10, bool maskHistory = false)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(cases);
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "K must be at least 1.");
        // Enough popular items to fill any list even after removing a full history.
        int[] popular = ByPopularity(groups, k + cases.Select(c => c.History.Length).DefaultIfEmpty(0).Max());
        var lists = new int[cases.Count][];
        for (int c = 0; c < cases.Count; c++)
        {
            var history = cases[c].History;
            var list = new List<int>(k);
            var taken = new HashSet<int>();
            var excluded = maskHistory ? new HashSet<int>(history) : null;
            if (method == ReferenceRecommender.LastItem && !maskHistory)
                for (int i = history.Length - 1; i >= 0 && list.Count < k; i--)
                    if (history[i] > 0 && taken.Add(history[i])) list.Add(history[i]);
            foreach (int item in popular)
            {
                if (list.Count >= k) break;
                if (excluded?.Contains(item) == true || !taken.Add(item)) continue;
                list.Add(item);
            }
            lists[c] = list.ToArray();
        }
        return lists;
    }

    /// <summary>METHOD.md section 7's metrics of a reference's lists on <paramref name="cases"/>.</summary>
    public static MetricSet Evaluate(ReferenceRecommender method, PopularityGroups groups, IReadOnlyList<EvaluationCase> cases, int k = 10, bool maskHistory = false) =>
        RankingEvaluator.Evaluate(Lists(method, groups, cases, k, maskHistory), cases.Select(c => c.Target).ToArray(), groups, k);

    /// <summary>Internal ids 1..n by descending training-target count, ties by id; the first <paramref name="count"/>.</summary>
    public static int[] ByPopularity(PopularityGroups groups, int count) =>
        Enumerable.Range(1, groups.ItemCount).OrderByDescending(i => groups.Counts[i]).ThenBy(i => i).Take(count).ToArray();
}
