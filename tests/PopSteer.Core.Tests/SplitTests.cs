using PopSteer.Core.Data;

namespace PopSteer.Core.Tests;

public sealed class SplitTests : IDisposable
{
    private readonly TempDirectory _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void Leave_one_out_on_a_hand_made_file()
    {
        // User a: 5 rows, out of time order, with a timestamp tie (c and d at 30: file order c then d).
        //   time order: b(10) e(20) c(30) d(30) f(40) -> train b e c, valid target d, test target f
        // User z: 3 rows -> RecBole keeps one training sample: train g h, no validation, test target i
        // User y: 2 rows -> its one sample trains: train g k, no validation, no test
        // User x: 1 row  -> no sample at all
        var path = _tmp.File("u.data");
        File.WriteAllText(path, string.Join('\n',
            "a\tc\t5\t30", "a\tb\t5\t10", "z\tg\t1\t1", "a\td\t5\t30", "a\tf\t5\t40", "a\te\t5\t20",
            "z\th\t1\t2", "z\ti\t1\t3", "y\tg\t1\t1", "y\tk\t1\t2", "x\tb\t1\t1") + "\n");
        var data = SequenceDataset.FromInteractions(InteractionReader.Read(path));
        Assert.Equal(["a", "z", "y", "x"], data.UserIds);
        string Ext(int i) => data.Items.ToExternal(i);
        Assert.Equal(["b", "e", "c", "d", "f"], data.Sequences[0].Select(Ext));

        var split = LeaveOneOutSplit.Create(data, maxLength: 2);
        Assert.Equal(["b", "e", "c"], split.TrainSequences[0].Select(Ext));
        Assert.Equal(["g", "h"], split.TrainSequences[1].Select(Ext));
        Assert.Equal(["g", "k"], split.TrainSequences[2].Select(Ext));
        Assert.Equal(["b"], split.TrainSequences[3].Select(Ext));

        var valid = Assert.Single(split.Validation);
        Assert.Equal(0, valid.User);
        Assert.Equal(["e", "c"], valid.History.Select(Ext));   // the 2 most recent items before d
        Assert.Equal("d", Ext(valid.Target));

        Assert.Equal(2, split.Test.Count);
        Assert.Equal(["c", "d"], split.Test[0].History.Select(Ext));
        Assert.Equal("f", Ext(split.Test[0].Target));
        Assert.Equal(1, split.Test[1].User);
        Assert.Equal(["g", "h"], split.Test[1].History.Select(Ext));
        Assert.Equal("i", Ext(split.Test[1].Target));

        // Training targets: a: e, c; z: h; y: k. Prefix samples = 2 + 1 + 1.
        Assert.Equal(4, split.TrainingSamples);
        Assert.Equal(1, split.TrainingTargetCounts[data.Items.ToInternal("e")]);
        Assert.Equal(1, split.TrainingTargetCounts[data.Items.ToInternal("k")]);
        Assert.Equal(0, split.TrainingTargetCounts[data.Items.ToInternal("b")]);
        Assert.Equal(4, split.TrainingTargetCounts.Sum());
    }

    [Fact]
    public void A_given_vocabulary_maps_known_items_and_counts_the_rest()
    {
        var vocab = new ItemVocabulary(["x", "y"]);
        var rows = new[] { new Interaction("u", "y", 2), new Interaction("u", "q", 1), new Interaction("v", "q", 1), new Interaction("u", "x", 3) };
        var data = SequenceDataset.FromInteractions(rows, vocab);
        Assert.Equal([new[] { 2, 1 }], data.Sequences);
        Assert.Equal(2, data.SkippedRows);
        Assert.Equal(1, data.SkippedUsers);
        Assert.NotEqual(data.Fingerprint, SequenceDataset.FromInteractions(rows.Take(1).ToArray(), vocab).Fingerprint);
    }

    [Fact]
    public void K_core_removes_users_then_items_until_stable()
    {
        // k = 2. u3 has one row -> removed; then item C has one row left (u1) -> removed; then u1 has one row -> removed;
        // then item A has one row (u2) ... u2: A, B, B -> A count 1 -> removed; u2 keeps B, B (2 rows), B has 2 -> stable.
        var rows = new[]
        {
            new Interaction("u1", "A", 1), new Interaction("u1", "C", 2),
            new Interaction("u2", "A", 1), new Interaction("u2", "B", 2), new Interaction("u2", "B", 3),
            new Interaction("u3", "C", 1),
        };
        var kept = KCoreFilter.Apply(rows, 2);
        Assert.Equal([new Interaction("u2", "B", 2), new Interaction("u2", "B", 3)], kept);
        Assert.Same(rows, KCoreFilter.Apply(rows, 0));
    }

    [Fact]
    public void Popularity_groups_on_a_hand_example()
    {
        // Counts for items 1..6: 50, 20, 15, 8, 5, 2 (total 100).
        // Head: descending cumulative share <= 0.2 -> item 1 alone is 0.5 > 0.2: the head is EMPTY at share 0.2.
        // Tail (ascending): 6 (0.02), 5 (0.07), 4 (0.15) <= 0.2; adding 3 gives 0.30 > 0.2 -> tail = {4, 5, 6}.
        var g = PopularityGroups.FromCounts([0, 50, 20, 15, 8, 5, 2], 0.2);
        Assert.Empty(g.Items(PopularityGroup.Head));
        Assert.Equal([4, 5, 6], g.Items(PopularityGroup.Tail));
        // At share 0.7: head = 1 (0.5), 1+2 = 0.7 <= 0.7 -> {1, 2}; tail = 6,5,4,3 (0.30), +2 = 0.50, +1 = 1.0 > 0.7 -> 2 is head already.
        var wide = PopularityGroups.FromCounts([0, 50, 20, 15, 8, 5, 2], 0.7);
        Assert.Equal([1, 2], wide.Items(PopularityGroup.Head));
        Assert.Equal([3, 4, 5, 6], wide.Items(PopularityGroup.Tail));
        Assert.Empty(wide.Items(PopularityGroup.Mid));
    }

    [Fact]
    public void The_share_widens_only_as_far_as_head_and_tail_both_need()
    {
        // Item 1 holds 50%: no head at any share below 0.5; at 0.5 the head is {1} and the tail {4, 5, 6} (0.15 <= 0.5).
        long[] skewed = [0, 50, 20, 15, 8, 5, 2];
        Assert.Equal(0.5, PopularityGroups.ShareWithBothGroups(skewed, 0.1), 9);
        Assert.Equal(0.5, PopularityGroups.ShareWithBothGroups(skewed, 0.2), 9);
        // Item 1 at 16%: share 0.1 has no head, 0.15 neither (0.16 > 0.15), 0.2 does.
        long[] mild = [0, 16, 14, 12, 10, 10, 10, 10, 8, 6, 4];
        Assert.Empty(PopularityGroups.FromCounts(mild, 0.1).Items(PopularityGroup.Head));
        Assert.Equal(0.2, PopularityGroups.ShareWithBothGroups(mild, 0.1), 9);
        // Both groups already present: the share is kept. One item with 60%: nothing up to 0.5 helps, the share is kept.
        long[] even = [0, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10];
        Assert.Equal(0.1, PopularityGroups.ShareWithBothGroups(even, 0.1), 12);
        Assert.Equal(0.1, PopularityGroups.ShareWithBothGroups([0, 60, 20, 20], 0.1), 12);
    }

    [Fact]
    public void Synthetic_data_is_seeded_exact_in_size_and_long_tailed()
    {
        var o = new SyntheticDataOptions(Users: 200, Items: 300, Interactions: 6000, Seed: 5);
        var a = SyntheticDataGenerator.Generate(o);
        Assert.Equal(a, SyntheticDataGenerator.Generate(o));
        Assert.NotEqual(a, SyntheticDataGenerator.Generate(o with { Seed = 6 }));
        Assert.Equal(6000, a.Count);
        Assert.Equal(200, a.Select(r => r.UserId).Distinct().Count());
        Assert.All(a.GroupBy(r => r.UserId), g => Assert.True(g.Count() >= 5));
        // Long tail: the 10% most popular items take far more than 10% of the rows.
        var counts = a.GroupBy(r => r.ItemId).Select(g => g.Count()).OrderByDescending(c => c).ToArray();
        Assert.True(counts.Take(30).Sum() > 0.4 * a.Count, $"top 10% of items hold {counts.Take(30).Sum()} of {a.Count} rows");
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticDataGenerator.Generate(o with { Interactions = 10 }));
    }
}
