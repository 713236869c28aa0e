namespace PopSteer.Core.Reranking;

/// <summary>
/// A post-processing re-ranker (METHOD.md section 8): turns one batch of base score rows into top-K lists.
/// Implementations see one <see cref="ScoreBatch"/> at a time, so a caller never needs more than one batch
/// of [users, items] scores in memory. Stateful re-rankers (P-MMF) carry their state from batch to batch:
/// use one instance per evaluation run or serving stream.
/// </summary>
public interface IReranker
{
    /// <summary>Display name used in reports: "IPR", "FA*IR", "PCT", "P-MMF".</summary>
    string Name { get; }

    /// <summary>The hyperparameters this instance runs with, by the names METHOD.md uses.</summary>
    IReadOnlyDictionary<string, double> Parameters { get; }

    /// <param name="scores">Base scores, one row per user, column = internal item id (0 = padding, never returned).
    /// Non-finite scores (e.g. -inf for masked items) are never returned.</param>
    /// <param name="histories">The users' histories (internal ids), row-aligned with <paramref name="scores"/>.</param>
    /// <param name="k">List length.</param>
    /// <returns>One list of internal item ids per row, best first, at most <paramref name="k"/> long.</returns>
    int[][] Rerank(ScoreBatch scores, IReadOnlyList<int[]> histories, int k);
}
