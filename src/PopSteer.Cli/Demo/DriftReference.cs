using PopSteer.Core.Data;
using PopSteer.Streaming.Contracts;

namespace PopSteer.Cli.Demo;

/// <summary>
/// What the demo measures served lists against, the same for every model version so phases compare: one item
/// vocabulary (the served model's items, then the drift's new items), the popularity groups before the drift (the
/// training data's, as the fitted model has them) and after it (the drifted part of the stream's own counts: the
/// popularity users now show), and each live event's index and its user's next live item, for NDCG@10 of a list
/// against what the user did next.
/// </summary>
internal sealed class DriftReference
{
    private readonly Dictionary<(string User, long Ms), (int Index, string? Next)> _events = new();

    public DriftReference(ItemVocabulary modelItems, PopularityGroups before, IReadOnlyList<InteractionEvent> stream, DriftPlan? plan)
    {
        Plan = plan;
        DriftAt = plan?.DriftAt ?? int.MaxValue;
        Items = new ItemVocabulary(modelItems.ExternalIds.Concat(plan?.NewItems ?? []));
        var beforeCounts = new long[Items.Count + 1];
        Array.Copy(before.Counts, beforeCounts, before.Counts.Length);
        Before = PopularityGroups.FromCounts(beforeCounts, before.Share);
        var afterCounts = new long[Items.Count + 1];
        for (int i = Math.Min(DriftAt, stream.Count); i < stream.Count; i++)
            if (Items.TryGetInternal(stream[i].ItemId, out var id)) afterCounts[id]++;
        After = afterCounts.Skip(1).Any(c => c > 0) ? PopularityGroups.FromCounts(afterCounts, before.Share) : Before;

        var last = new Dictionary<string, (string User, long Ms)>(StringComparer.Ordinal);
        for (int i = 0; i < stream.Count; i++)
        {
            var e = stream[i];
            var key = (e.UserId, e.Timestamp.ToUnixTimeMilliseconds());
            if (last.TryGetValue(e.UserId, out var previous)) _events[previous] = (_events[previous].Index, e.ItemId);
            _events[key] = (i, null);
            last[e.UserId] = key;
        }
    }

    public DriftPlan? Plan { get; }
    public int DriftAt { get; }
    public ItemVocabulary Items { get; }
    public PopularityGroups Before { get; }
    public PopularityGroups After { get; }

    /// <summary>The reference ids of a list of external ids (unknown ids dropped).</summary>
    public int[] ToReference(IEnumerable<string> externalIds) =>
        externalIds.Select(id => Items.TryGetInternal(id, out var i) ? i : 0).Where(i => i > 0).ToArray();

    /// <summary>The live event a recommendation answers (by user and event time), or null for anything else (the warm-up).</summary>
    public (int Index, string? Next)? EventOf(string userId, DateTimeOffset? eventTimestamp) =>
        eventTimestamp is { } t && _events.TryGetValue((userId, t.ToUnixTimeMilliseconds()), out var e) ? e : null;

    /// <summary>NDCG@10 of a list against the user's next live item (NaN when the event was the user's last).</summary>
    public double Ndcg(int[] referenceList, string? next)
    {
        if (next is null || !Items.TryGetInternal(next, out var target)) return next is null ? double.NaN : 0;
        int rank = Array.IndexOf(referenceList, target);
        return rank is >= 0 and < 10 ? 1.0 / Math.Log2(rank + 2) : 0;
    }
}
