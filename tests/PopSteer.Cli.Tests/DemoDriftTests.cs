using PopSteer.Cli.Commands;
using PopSteer.Cli.Demo;
using PopSteer.Core.Data;
using PopSteer.Streaming.Contracts;

namespace PopSteer.Cli.Tests;

/// <summary>The demo's drifting stream and what it measures served lists against.</summary>
public class DemoDriftTests
{
    private static (IReadOnlyList<Interaction> Train, IReadOnlyList<Interaction> Live) Data()
    {
        var rows = SyntheticDataGenerator.Generate(new SyntheticDataOptions(200, 100, 6000, Seed: 3));
        var train = rows.Where((_, i) => i % 4 != 0).ToArray();
        var live = rows.Where((_, i) => i % 4 == 0).ToArray();
        return (train, live);
    }

    [Fact]
    public void The_drift_leaves_the_stream_before_its_point_alone_and_after_it_hands_faded_heads_to_new_items_and_raises_tail_items()
    {
        var (train, live) = Data();
        int at = live.Count / 2;
        var (drifted, plan) = DriftScenario.Apply(train, live, at, new DriftScenarioOptions { RisingItems = 5, RisingShare = 0.2, Seed = 1 });
        var again = DriftScenario.Apply(train, live, at, new DriftScenarioOptions { RisingItems = 5, RisingShare = 0.2, Seed = 1 }).Stream;

        Assert.Equal(live.Take(at), drifted.Take(at));
        Assert.Equal(drifted, again);
        Assert.Equal(plan.Fading.Count, plan.NewItems.Count);
        Assert.NotEmpty(plan.NewItems);
        Assert.All(plan.NewItems, id => Assert.DoesNotContain(train, r => r.ItemId == id));
        var after = drifted.Skip(at).ToArray();
        Assert.DoesNotContain(after, r => plan.Fading.Contains(r.ItemId));
        // Each faded item's events went to its new item, user and time unchanged.
        for (int i = at; i < live.Count; i++)
        {
            int k = plan.Fading.ToList().IndexOf(live[i].ItemId);
            if (k >= 0) Assert.Equal(live[i] with { ItemId = plan.NewItems[k] }, drifted[i]);
            else Assert.Equal(live[i].UserId, drifted[i].UserId);
        }
        double risenBefore = live.Skip(at).Count(r => plan.Rising.Contains(r.ItemId)) / (double)after.Length;
        double risenAfter = after.Count(r => plan.Rising.Contains(r.ItemId)) / (double)after.Length;
        Assert.True(risenAfter > risenBefore + 0.15, $"rising items' share {risenBefore:0.000} -> {risenAfter:0.000}");
    }

    [Fact]
    public void The_reference_scores_a_list_against_the_users_next_live_item_and_knows_the_new_items()
    {
        var (train, live) = Data();
        var (drifted, plan) = DriftScenario.Apply(train, live, live.Count / 2, new DriftScenarioOptions { Seed = 2 });
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var events = drifted.Select((r, i) => new InteractionEvent { EventId = $"e{i}", UserId = r.UserId, ItemId = r.ItemId, Timestamp = t0.AddMilliseconds(i) }).ToArray();
        var items = new ItemVocabulary(train.Select(r => r.ItemId).Distinct().Order(StringComparer.Ordinal));
        var counts = new long[items.Count + 1];
        foreach (var r in train) counts[items.ToInternal(r.ItemId)]++;
        var reference = new DriftReference(items, PopularityGroups.FromCounts(counts), events, plan);

        Assert.Equal(items.Count + plan.NewItems.Count, reference.Items.Count);
        Assert.All(plan.NewItems, id => Assert.True(reference.Items.TryGetInternal(id, out _)));
        // Popularity after the drift: the new items took the faded heads' place.
        Assert.All(plan.Fading, id => Assert.NotEqual(PopularityGroup.Head, reference.After[reference.Items.ToInternal(id)]));
        Assert.Contains(plan.NewItems, id => reference.After[reference.Items.ToInternal(id)] == PopularityGroup.Head);

        var first = events[0];
        var next = events.Skip(1).First(e => e.UserId == first.UserId);
        var answered = reference.EventOf(first.UserId, first.Timestamp)!.Value;
        Assert.Equal(0, answered.Index);
        Assert.Equal(next.ItemId, answered.Next);
        var target = reference.Items.ToInternal(next.ItemId);
        var other = Enumerable.Range(1, reference.Items.Count).First(i => i != target);
        Assert.Equal(1.0, reference.Ndcg([target, other], answered.Next));
        Assert.Equal(1 / Math.Log2(3), reference.Ndcg([other, target], answered.Next), 12);
        Assert.Equal(0, reference.Ndcg([other], answered.Next));
        var lastOfUser = events.Last(e => e.UserId == first.UserId);
        Assert.True(double.IsNaN(reference.Ndcg([target], reference.EventOf(lastOfUser.UserId, lastOfUser.Timestamp)!.Value.Next)));
        Assert.Null(reference.EventOf("nobody", t0));
    }

    [Fact]
    public void Set_takes_key_value_pairs_and_refuses_anything_else()
    {
        var settings = DemoCommand.ParseSettings(["Retrainer:SasRecFineTune=Never", " Steering:Neurons = 512 "]);
        Assert.Equal("Never", settings["Retrainer:SasRecFineTune"]);
        Assert.Equal("512", settings["Steering:Neurons"]);
        var e = Assert.Throws<ArgumentException>(() => DemoCommand.ParseSettings(["Retrainer:SasRecFineTune"]));
        Assert.Contains("--set", e.Message);
    }

    [Fact]
    public void The_embedded_broker_has_one_broker_unless_asked_and_never_none()
    {
        Assert.Equal(1, new DemoOptions().Brokers);
        new DemoOptions { Brokers = 3 }.Validate();
        var e = Assert.Throws<ArgumentException>(() => new DemoOptions { Brokers = 0 }.Validate());
        Assert.Contains("--brokers", e.Message);
    }
}
