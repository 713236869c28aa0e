namespace PopSteer.Core.Data;

/// <summary>
/// Iterative k-core: drop users with fewer than k rows, then items with fewer than k rows, and repeat until neither
/// changes. Counts rows (duplicates included), as the method counts every interaction.
/// </summary>
public static class KCoreFilter
{
    public static IReadOnlyList<Interaction> Apply(IReadOnlyList<Interaction> rows, int k)
    {
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be >= 0.");
        if (k <= 1) return rows;
        var current = rows;
        while (true)
        {
            var userCounts = Count(current, r => r.UserId);
            var afterUsers = current.Where(r => userCounts[r.UserId] >= k).ToList();
            var itemCounts = Count(afterUsers, r => r.ItemId);
            var afterItems = afterUsers.Where(r => itemCounts[r.ItemId] >= k).ToList();
            if (afterItems.Count == current.Count) return afterItems;
            current = afterItems;
        }
    }

    private static Dictionary<string, int> Count(IEnumerable<Interaction> rows, Func<Interaction, string> key)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var r in rows)
        {
            var id = key(r);
            counts[id] = counts.GetValueOrDefault(id) + 1;
        }
        return counts;
    }
}
