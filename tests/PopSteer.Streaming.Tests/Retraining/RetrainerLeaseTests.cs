using Microsoft.Extensions.DependencyInjection;
using PopSteer.Core.Testing;
using PopSteer.Retrainer;
using PopSteer.Streaming.Registry;
using PopSteer.Streaming.Tests.Infrastructure;
using PopSteer.Streaming.Tests.Scoring;
using StackExchange.Redis;

namespace PopSteer.Streaming.Tests.Retraining;

/// <summary>
/// Two real Retrainer hosts on one Redis and one consumer group: only the lease holder consumes and writes, the
/// standby takes over from the holder's checkpoint, and a holder whose lease was taken is fenced off (its checkpoint
/// and its publish are refused by Redis, not just by its own bookkeeping).
/// </summary>
[Collection(RetrainerHostsCollection.Name)]
public sealed class RetrainerLeaseTests(RedisServerFixture redis, KafkaFixture kafka)
    : IClassFixture<RedisServerFixture>, IClassFixture<KafkaFixture>, IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    private TestSettings Settings()
    {
        var settings = RetrainerTestSettings.Create(kafka.BootstrapServers, redis.ConnectionString, _scratch.Sub("work"));
        // Neither test waits for an expiry (one releases on stop, one takes the lease by hand), so the TTL only has to
        // outlast a stalled renewal: at 1 s a loaded suite let a's lease expire and the standby took it mid-test.
        settings["Retrainer:LeaseTtl"] = "00:00:05";
        return settings;
    }

    private static Task<TestHost> StartAsync(TestSettings settings, string instance)
    {
        settings["Retrainer:InstanceId"] = instance;
        return TestHost.StartAsync(settings, (s, c) => s.AddRetrainer(c));
    }

    [Fact]
    public async Task Of_two_retrainers_only_the_lease_holder_counts_and_the_standby_takes_over_from_its_checkpoint()
    {
        var settings = Settings();
        var first = TestEvents.Generate(users: 20, items: 30, count: 120, seed: 1, idPrefix: "a");
        var hostA = await StartAsync(settings, "a");
        var leaseA = hostA.Services.GetRequiredService<RetrainerLease>();
        await Eventually.Until(() => leaseA.Current is not null, Patience, () => "a never took the free lease");
        await using var hostB = await StartAsync(settings, "b");
        var leaseB = hostB.Services.GetRequiredService<RetrainerLease>();
        var trackerB = hostB.Services.GetRequiredService<PopularityTracker>();
        long tokenA = leaseA.Current!.Token;
        try
        {
            var trackerA = hostA.Services.GetRequiredService<PopularityTracker>();
            var checkpoint = hostA.Services.GetRequiredService<PopularityCheckpoint>();
            await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, first);
            await Eventually.Until(async () => (await checkpoint.LoadAsync())?.Events == first.Count, Patience,
                () => $"a counted {trackerA.Snapshot().Events} of {first.Count}");
            // The standby never joined the group: it holds nothing and counted nothing.
            Assert.Null(leaseB.Current);
            Assert.Equal(0, trackerB.Snapshot().Events);
            Assert.Equal(first.Count, trackerA.Snapshot().Events);
        }
        finally
        {
            await hostA.DisposeAsync();
        }
        // a released the lease on stop: b takes it, restores a's checkpoint and goes on without counting anything twice.
        await Eventually.Until(() => leaseB.Current is not null, Patience, () => "b never took over the released lease");
        Assert.True(leaseB.Current!.Token > tokenA, $"b's token {leaseB.Current.Token} is not above a's");
        var second = TestEvents.Generate(users: 20, items: 30, count: 60, seed: 2, idPrefix: "b");
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, second);
        var checkpointB = hostB.Services.GetRequiredService<PopularityCheckpoint>();
        await Eventually.Until(async () => (await checkpointB.LoadAsync())?.Events == first.Count + second.Count, Patience,
            () => $"b's checkpoint has {trackerB.Snapshot().Events} events, expected {first.Count + second.Count}");
        await Task.Delay(500);
        Assert.Equal(first.Count + second.Count, trackerB.Snapshot().Events);
    }

    [Fact]
    public async Task A_holder_whose_lease_was_taken_is_fenced_off_its_checkpoint_and_publish_are_refused_and_it_stops_writing()
    {
        var settings = Settings();
        var baseDir = _scratch.Sub("base");
        TinyModelFactory.Create(baseDir, items: 30, seed: 7);
        await using var host = await StartAsync(settings, "a");
        var lease = host.Services.GetRequiredService<RetrainerLease>();
        var tracker = host.Services.GetRequiredService<PopularityTracker>();
        var checkpoint = host.Services.GetRequiredService<PopularityCheckpoint>();
        var registry = host.Services.GetRequiredService<ModelRegistry>();
        await Eventually.Until(() => lease.Current is not null, Patience, () => "a never took the free lease");
        var held = lease.Current!;
        var events = TestEvents.Generate(users: 10, items: 30, count: 40, seed: 3, idPrefix: "f");
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, events);
        await Eventually.Until(async () => (await checkpoint.LoadAsync())?.Events == events.Count, Patience, () => "checkpoint not written");
        var published = await registry.PublishAsync(baseDir, held.Fence, CancellationToken.None);

        // Another instance takes the lease while a is paused: it gets a higher token and raises the registry's fence.
        using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = connection.GetDatabase();
        long intruderToken = (long)await db.StringIncrementAsync(checkpoint.LeaseTokenKey);
        await db.StringSetAsync(checkpoint.LeaseKey, $"intruder:{intruderToken}", TimeSpan.FromMinutes(1));
        await registry.RaiseFenceAsync(new RegistryFence(RetrainerLease.FenceName, intruderToken));

        // a's writes with its old tenure are refused by Redis itself.
        var saved = (await checkpoint.LoadAsync())!;
        await Assert.ThrowsAsync<LeaseLostException>(() => checkpoint.SaveAsync(saved with { Events = 1 }, held.Value));
        var refit = _scratch.Sub("other");
        TinyModelFactory.Create(refit, items: 30, seed: 8);
        var refused = await Assert.ThrowsAsync<ModelRegistryException>(() => registry.PublishAsync(refit, held.Fence, CancellationToken.None));
        Assert.Contains("FENCED", refused.Message);
        Assert.Equal(published.Version, await registry.GetCurrentAsync());

        // a notices at its next renewal, stops counting and leaves the checkpoint to the new holder.
        await Eventually.Until(() => lease.Current is null, Patience, () => "a still believes it holds the lease");
        Assert.True(held.Lost.IsCancellationRequested);
        var more = TestEvents.Generate(users: 10, items: 30, count: 30, seed: 4, idPrefix: "g");
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, more);
        await Task.Delay(1500);
        Assert.Equal(events.Count, (await checkpoint.LoadAsync())!.Events);
        Assert.Equal(saved.Scaled.Count, (await checkpoint.LoadAsync())!.Scaled.Count);
        Assert.Equal($"intruder:{intruderToken}", (string?)await db.StringGetAsync(checkpoint.LeaseKey));
    }
}
