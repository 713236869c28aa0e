using Microsoft.Extensions.DependencyInjection;
using PopSteer.Streaming.Sequences;
using PopSteer.Streaming.Tests.Infrastructure;
using StackExchange.Redis;

namespace PopSteer.Streaming.Tests.Sequences;

public sealed class SequenceStoreTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private const string Topic = "popsteer.interactions";
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private (ServiceProvider Services, SequenceStore Store) Create(Action<TestSettings>? configure = null)
    {
        var settings = new TestSettings("127.0.0.1:1", redis.ConnectionString);
        configure?.Invoke(settings);
        var services = StreamingServices.Build(settings);
        return (services, services.GetRequiredService<SequenceStore>());
    }

    private static SequenceAppend At(string user, string item, long offset, int partition = 0) =>
        new(user, item, T0.AddMilliseconds(offset * 1001), Topic, partition, offset);

    [Fact]
    public async Task Append_then_read_returns_items_oldest_first_with_exact_timestamps()
    {
        var (services, store) = Create();
        using var _ = services;
        var outcomes = await store.AppendAsync([At("u1", "i:a", 10), At("u2", "b", 11), At("u1", "c", 12)]);

        Assert.Equal([new AppendOutcome("u1", 2, 2), new AppendOutcome("u2", 1, 1)], outcomes);
        var u1 = await store.ReadAsync("u1");
        Assert.Equal(["i:a", "c"], u1.ItemIds);
        Assert.Equal([T0.AddMilliseconds(10 * 1001), T0.AddMilliseconds(12 * 1001)], u1.Entries.Select(e => e.Timestamp));
    }

    [Fact]
    public async Task Redelivered_offsets_change_nothing_and_only_new_ones_are_appended()
    {
        var (services, store) = Create();
        using var _ = services;
        await store.AppendAsync(Enumerable.Range(0, 5).Select(o => At("u", $"i{o}", o)).ToArray());

        var again = await store.AppendAsync(Enumerable.Range(0, 5).Select(o => At("u", $"i{o}", o)).ToArray());
        Assert.Equal(0, again.Single().Appended);
        Assert.Equal(5, again.Single().Length);

        // A rebalance redelivers 3..4 together with new 5..7.
        var overlap = await store.AppendAsync(Enumerable.Range(3, 5).Select(o => At("u", $"i{o}", o)).ToArray());
        Assert.Equal(3, overlap.Single().Appended);
        Assert.Equal(Enumerable.Range(0, 8).Select(o => $"i{o}"), (await store.ReadAsync("u")).ItemIds);
        Assert.Equal(7, await store.AppliedOffsetAsync("u", Topic, 0));
    }

    [Fact]
    public async Task Offsets_are_tracked_per_source_partition()
    {
        var (services, store) = Create();
        using var _ = services;
        await store.AppendAsync([At("u", "p0", 100, partition: 0)]);
        var other = await store.AppendAsync([At("u", "p1", 5, partition: 1)]);

        Assert.Equal(1, other.Single().Appended);
        Assert.Equal(100, await store.AppliedOffsetAsync("u", Topic, 0));
        Assert.Equal(5, await store.AppliedOffsetAsync("u", Topic, 1));
        Assert.Null(await store.AppliedOffsetAsync("u", Topic, 2));
    }

    [Fact]
    public async Task A_new_epoch_of_a_partition_applies_offsets_from_zero_again_and_the_partition_state_only_moves_forward()
    {
        var (services, store) = Create();
        using var _ = services;
        await store.AppendAsync([At("u", "old", 100)]);
        Assert.Equal(new PartitionState(0, 100), await store.PartitionAsync(Topic, 0));
        Assert.Equal(0, (await store.AppendAsync([At("u", "again", 5)])).Single().Appended); // a redelivery in epoch 0

        // The log restarted (topic recreated): offsets from 0 are new events in epoch 1.
        Assert.Equal(new PartitionState(1, -1), await store.StartEpochAsync(Topic, 0, 1));
        var fresh = await store.AppendAsync([At("u", "new", 5) with { Epoch = 1 }]);
        Assert.Equal(1, fresh.Single().Appended);
        Assert.Equal(["old", "new"], (await store.ReadAsync("u")).ItemIds);
        Assert.Equal(5, await store.AppliedOffsetAsync("u", Topic, 0, epoch: 1));
        Assert.Equal(100, await store.AppliedOffsetAsync("u", Topic, 0));
        Assert.Equal(new PartitionState(1, 5), await store.PartitionAsync(Topic, 0));

        // A late write of the old epoch does not move the state back.
        await store.AppendAsync([At("v", "late", 200)]);
        Assert.Equal(new PartitionState(1, 5), await store.PartitionAsync(Topic, 0));
        Assert.Equal(PartitionState.None, await store.PartitionAsync(Topic, 3));
    }

    [Fact]
    public async Task Sequence_is_capped_to_the_newest_items()
    {
        var (services, store) = Create(s => s["Sequences:MaxLength"] = "5");
        using var _ = services;
        await store.AppendAsync(Enumerable.Range(0, 8).Select(o => At("u", $"i{o}", o)).ToArray());
        var last = await store.AppendAsync(Enumerable.Range(8, 4).Select(o => At("u", $"i{o}", o)).ToArray());

        Assert.Equal(5, last.Single().Length);
        Assert.Equal(["i7", "i8", "i9", "i10", "i11"], (await store.ReadAsync("u")).ItemIds);
    }

    [Fact]
    public async Task Idle_ttl_is_set_on_both_keys_defaults_to_30_days_and_zero_turns_it_off()
    {
        var (services, store) = Create(s => s["Sequences:IdleTtl"] = "00:02:00");
        using var _ = services;
        await store.AppendAsync([At("u", "a", 1)]);
        using var check = redis.Connect();
        var db = check.GetDatabase();
        foreach (var key in new[] { store.SequenceKey("u"), store.AppliedOffsetsKey("u") })
        {
            var ttl = await db.KeyTimeToLiveAsync(key);
            Assert.NotNull(ttl);
            Assert.InRange(ttl.Value, TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(120));
        }

        var (defaultServices, byDefault) = Create();
        using var __ = defaultServices;
        await byDefault.AppendAsync([At("u", "a", 1)]);
        var monthly = await db.KeyTimeToLiveAsync(byDefault.SequenceKey("u"));
        Assert.NotNull(monthly);
        Assert.InRange(monthly.Value, TimeSpan.FromDays(30) - TimeSpan.FromMinutes(1), TimeSpan.FromDays(30));

        var (plainServices, plain) = Create(s => s["Sequences:IdleTtl"] = "00:00:00");
        using var ___ = plainServices;
        await plain.AppendAsync([At("u", "a", 1)]);
        Assert.True(await db.KeyExistsAsync(plain.SequenceKey("u")));
        Assert.Null(await db.KeyTimeToLiveAsync(plain.SequenceKey("u")));
    }

    [Theory]
    [InlineData("user-42")]
    [InlineData("we{ird}user")]
    [InlineData("")]
    public void A_users_keys_share_one_cluster_hash_slot(string user)
    {
        var (services, store) = Create();
        using var _ = services;
        var multiplexer = services.GetRequiredService<IConnectionMultiplexer>();
        Assert.Equal(multiplexer.HashSlot(store.SequenceKey(user)), multiplexer.HashSlot(store.AppliedOffsetsKey(user)));
        Assert.StartsWith("{", (string)store.SequenceKey(user)!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadMany_returns_every_user_in_the_order_asked_with_empty_for_unknown()
    {
        var (services, store) = Create();
        using var _ = services;
        await store.AppendAsync([At("a", "1", 1), At("b", "2", 2), At("b", "3", 3)]);

        var read = await store.ReadManyAsync(["b", "nobody", "a"]);

        Assert.Equal(["b", "nobody", "a"], read.Select(s => s.UserId));
        Assert.Equal(["2", "3"], read[0].ItemIds);
        Assert.Empty(read[1].Entries);
        Assert.Equal(["1"], read[2].ItemIds);
    }

    [Fact]
    public async Task Entries_are_decoded_from_their_bytes_whatever_the_id_holds_and_a_malformed_one_is_named()
    {
        var (services, store) = Create();
        using var _ = services;
        var before1970 = new DateTimeOffset(1969, 7, 20, 20, 17, 40, TimeSpan.Zero);
        await store.AppendAsync([new SequenceAppend("uni", "Crème brûlée: 🎬 ü", before1970, Topic, 0, 1), At("uni", "", 2)]);

        var read = (await store.ReadManyAsync(["uni"]))[0];
        Assert.Equal(["Crème brûlée: 🎬 ü", ""], read.ItemIds);
        Assert.Equal(before1970, read.Entries[0].Timestamp);

        // A value another writer left in the list: the read names the entry and the user instead of guessing.
        var db = services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        await db.ListRightPushAsync(store.SequenceKey("uni"), "12x:item");
        var error = await Assert.ThrowsAsync<FormatException>(() => store.ReadManyAsync(["uni"]));
        Assert.Contains("'12x:item'", error.Message);
        Assert.Contains("'uni'", error.Message);
    }
}
