namespace PopSteer.Core.Reranking;

/// <summary>
/// Top-k selection over a score row with one deterministic order everywhere: higher score first, ties by smaller
/// item id. Column 0 (padding) and non-finite scores are never selected.
/// </summary>
public static class TopItems
{
    public static int[] Select(ReadOnlySpan<float> row, int count)
    {
        var scores = new double[row.Length];
        for (int i = 0; i < row.Length; i++) scores[i] = row[i];
        return Select(scores, count);
    }

    public static int[] Select(ReadOnlySpan<double> row, int count)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be >= 0");
        if (count == 0) return [];
        // Bounded min-heap of the best `count` so far: the root is the weakest kept item. O(n log count).
        var heap = new PriorityQueue<int, (double Score, int Item)>(count + 1, WeakestFirst.Instance);
        for (int item = 1; item < row.Length; item++)
        {
            double s = row[item];
            if (!double.IsFinite(s)) continue;
            if (heap.Count < count) heap.Enqueue(item, (s, item));
            else
            {
                heap.TryPeek(out _, out var weakest);
                if (Better(s, item, weakest.Score, weakest.Item)) heap.EnqueueDequeue(item, (s, item));
            }
        }
        var result = new int[heap.Count];
        for (int r = result.Length - 1; r >= 0; r--) result[r] = heap.Dequeue();
        return result;
    }

    /// <summary>The shared tie rule: higher score, then smaller id.</summary>
    public static bool Better(double scoreA, int itemA, double scoreB, int itemB) =>
        scoreA > scoreB || (scoreA == scoreB && itemA < itemB);

    private sealed class WeakestFirst : IComparer<(double Score, int Item)>
    {
        public static readonly WeakestFirst Instance = new();

        public int Compare((double Score, int Item) x, (double Score, int Item) y) =>
            x.Item == y.Item && x.Score == y.Score ? 0 : Better(x.Score, x.Item, y.Score, y.Item) ? 1 : -1;
    }
}
