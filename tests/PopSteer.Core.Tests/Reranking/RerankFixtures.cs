using PopSteer.Core.Data;
using PopSteer.Core.Reranking;

namespace PopSteer.Core.Tests.Reranking;

/// <summary>Small hand-made catalogues and score batches for the re-ranker tests.</summary>
internal static class RerankFixtures
{
    /// <summary>Groups from explicit per-item assignments (index 0 = padding), counts given by hand.</summary>
    public static PopularityGroups Groups(long[] counts, PopularityGroup[] groups) => new(counts, groups, 0.2);

    /// <summary>A catalogue where items 1..head are Head, the next mid are Mid and the rest Tail; counts fall with id.</summary>
    public static PopularityGroups Catalogue(int head, int mid, int tail)
    {
        int n = head + mid + tail;
        var counts = new long[n + 1];
        var groups = new PopularityGroup[n + 1];
        for (int i = 1; i <= n; i++)
        {
            counts[i] = n + 1 - i;
            groups[i] = i <= head ? PopularityGroup.Head : i <= head + mid ? PopularityGroup.Mid : PopularityGroup.Tail;
        }
        return new PopularityGroups(counts, groups, 0.2);
    }

    public static ScoreBatch Batch(params double[][] rows)
    {
        int columns = rows[0].Length;
        var data = new float[rows.Length * columns];
        for (int u = 0; u < rows.Length; u++)
            for (int c = 0; c < columns; c++) data[u * columns + c] = (float)rows[u][c];
        return new ScoreBatch(data, rows.Length, columns);
    }

    /// <summary>Random rows (column 0 = -inf), with an optional per-item bonus so popular items tend to score higher.</summary>
    public static ScoreBatch RandomBatch(Random random, int users, int items, Func<int, double>? bonus = null)
    {
        var data = new float[users * (items + 1)];
        for (int u = 0; u < users; u++)
        {
            data[u * (items + 1)] = float.NegativeInfinity;
            for (int i = 1; i <= items; i++)
                data[u * (items + 1) + i] = (float)(random.NextDouble() * 2 - 1 + (bonus?.Invoke(i) ?? 0));
        }
        return new ScoreBatch(data, users, items + 1);
    }

    public static int[][] EmptyHistories(int users) => Enumerable.Range(0, users).Select(_ => Array.Empty<int>()).ToArray();

    /// <summary>The base ranking by an independent rule: score descending, then id ascending, finite scores only.</summary>
    public static int[] BaseRanking(ScoreBatch batch, int user, int k)
    {
        var row = batch.Row(user).ToArray();
        return Enumerable.Range(1, row.Length - 1).Where(i => float.IsFinite(row[i]))
            .OrderByDescending(i => row[i]).ThenBy(i => i).Take(k).ToArray();
    }
}
