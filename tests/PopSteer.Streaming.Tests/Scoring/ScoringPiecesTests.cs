using PopSteer.Core.Data;
using PopSteer.Core.Metrics;
using PopSteer.Scorer;
using PopSteer.Streaming.Sequences;

namespace PopSteer.Streaming.Tests.Scoring;

/// <summary>The Scorer's pure pieces: history mapping, the sliding served-exposure window, the shadow sample's choice of users.</summary>
public sealed class ScoringPiecesTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static UserSequence Sequence(params string[] items) =>
        new("u", items.Select((item, i) => new SequenceEntry(item, T0.AddSeconds(i))).ToArray());

    [Fact]
    public void History_skips_unknown_items_and_keeps_the_most_recent_known_ones_oldest_first()
    {
        var vocabulary = new ItemVocabulary(["a", "b", "c", "d"]); // a=1 b=2 c=3 d=4

        Assert.Equal([2, 3, 4], BatchScorer.ToHistory(Sequence("a", "x", "b", "c", "y", "d"), vocabulary, maxLength: 3));
        Assert.Equal([1, 2, 1], BatchScorer.ToHistory(Sequence("a", "b", "zz", "a"), vocabulary, maxLength: 10));
        Assert.Empty(BatchScorer.ToHistory(Sequence("x", "y"), vocabulary, maxLength: 10));
        Assert.Empty(BatchScorer.ToHistory(Sequence(), vocabulary, maxLength: 10));
    }

    [Fact]
    public void Served_window_counts_only_the_last_lists_and_agrees_with_the_shared_gini()
    {
        // Items 1..6: 1-2 head, 3-4 mid, 5-6 tail.
        var groups = new PopularityGroups(new long[7], [PopularityGroup.Mid, PopularityGroup.Head, PopularityGroup.Head,
            PopularityGroup.Mid, PopularityGroup.Mid, PopularityGroup.Tail, PopularityGroup.Tail], 0.2);
        var window = new ServedExposureWindow(capacity: 2);
        window.Reset(groups);

        window.Add([1, 2]);
        window.Add([5, 6]);
        Assert.Equal(0.5, window.TailShare);
        window.Add([5, 3]); // evicts [1, 2]
        Assert.Equal(2, window.Lists);
        Assert.Equal(0.75, window.TailShare);
        Assert.Equal(RankingEvaluator.Gini([0, 0, 0, 1, 0, 2, 1]), window.Gini, 12);

        window.Reset(groups); // a new model starts a new window
        Assert.Equal(0, window.Lists);
        Assert.Equal(0, window.TailShare);
    }

    [Fact]
    public void Shadow_sample_picks_users_by_a_hash_that_no_process_randomises()
    {
        // FNV-1a 32-bit test vectors (Fowler, Noll, Vo): a hash fixed by its definition, so every replica and every
        // restart picks the same users. string.GetHashCode would differ from process to process.
        Assert.Equal(0x811c9dc5u, ShadowSample.Hash(""));
        Assert.Equal(0xe40c292cu, ShadowSample.Hash("a"));
        Assert.Equal(0xbf9cf968u, ShadowSample.Hash("foobar"));
        Assert.Equal(0x1e9de8c1u, ShadowSample.Hash("é")); // over its UTF-8 bytes C3 A9, not one value per char
        Assert.Equal(0x30c1d06du, ShadowSample.Hash(new string('u', 1000))); // an id too long for the stack buffer

        // About one user in `every`, and never anyone when sampling is off.
        var ids = Enumerable.Range(0, 20_000).Select(i => $"user-{i}").ToArray();
        Assert.All(ids, id => Assert.True(ShadowSample.Includes(id, 1)));
        Assert.DoesNotContain(ids, id => ShadowSample.Includes(id, 0));
        int sampled = ids.Count(id => ShadowSample.Includes(id, 100));
        Assert.InRange(sampled, 140, 260); // 200 expected; 4 standard deviations either side
    }
}
