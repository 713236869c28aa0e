using System.Text;
using Microsoft.Extensions.DependencyInjection;
using PopSteer.Retrainer;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Tests.Infrastructure;
using PopSteer.Streaming.Tests.Scoring;

namespace PopSteer.Streaming.Tests.Retraining;

/// <summary>The tracker against a real redis-server and the mock cluster: decayed counts, checkpoint, resume.</summary>
[Collection(RetrainerHostsCollection.Name)]
public sealed class PopularityTrackerTests(RedisServerFixture redis, KafkaFixture kafka)
    : IClassFixture<RedisServerFixture>, IClassFixture<KafkaFixture>, IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly DateTimeOffset T0 = new(2025, 2, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    private static InteractionEvent Event(int i, string item, DateTimeOffset at) =>
        new() { EventId = $"e{i}", UserId = "u1", ItemId = item, Timestamp = at };

    [Fact]
    public async Task Counts_decay_on_event_time_are_checkpointed_and_a_restart_resumes_without_counting_anything_twice()
    {
        var settings = RetrainerTestSettings.Create(kafka.BootstrapServers, redis.ConnectionString, _scratch.Sub("work"));
        settings["Retrainer:PopularityHalfLife"] = "01:00:00";
        // One user, so every message lands on one partition: once the last is counted, all before it were read.
        var first = new[]
        {
            Event(0, "a", T0), Event(1, "a", T0), Event(2, "a", T0), Event(3, "a", T0),
            Event(4, "b", T0.AddHours(1)), Event(5, "b", T0.AddHours(1)),
            Event(6, "c", T0.AddHours(2)),
        };
        var messages = first.Select(e => ((byte[]?)Encoding.UTF8.GetBytes(e.UserId), (byte[]?)KafkaTestClient.Serialize(e))).ToList();
        messages.Insert(3, ("u1"u8.ToArray(), "{\"schemaVersion\": 1, oops"u8.ToArray())); // malformed: skipped, not counted

        await using (var host = await TestHost.StartAsync(settings, (s, c) => s.AddRetrainer(c)))
        {
            var tracker = host.Services.GetRequiredService<PopularityTracker>();
            await KafkaTestClient.ProduceAsync(settings.BootstrapServers, settings.InteractionsTopic, messages);
            await Eventually.Until(() => tracker.Snapshot().Events == 7, Patience, () => $"{tracker.Snapshot().Events} of 7 events counted");

            var live = tracker.Snapshot();
            Assert.Equal(T0.AddHours(2), live.At);
            Assert.Equal(1.0, live.Counts["a"], 12); // 4 events two half-lives old
            Assert.Equal(1.0, live.Counts["b"], 12); // 2 events one half-life old
            Assert.Equal(1.0, live.Counts["c"], 12);
            Assert.Equal(3, live.Counts.Count);

            var checkpoint = host.Services.GetRequiredService<PopularityCheckpoint>();
            await Eventually.Until(async () => (await checkpoint.LoadAsync())?.Events == 7, Patience, () => "checkpoint with 7 events not written");
            Assert.Equal(["u1"], await checkpoint.RecentUsersAsync(10));
        }

        // A new consumer group re-reads the topic from the start: the checkpoint's offsets recognise every message.
        settings["Retrainer:GroupId"] = $"retrainer-{Guid.NewGuid():N}";
        await using (var host = await TestHost.StartAsync(settings, (s, c) => s.AddRetrainer(c)))
        {
            var tracker = host.Services.GetRequiredService<PopularityTracker>();
            await tracker.Restored.WaitAsync(Patience);
            var resumed = tracker.Snapshot();
            Assert.Equal(7, resumed.Events);
            Assert.Equal(T0.AddHours(2), resumed.At);
            Assert.Equal(1.0, resumed.Counts["a"], 12);
            Assert.Equal(1.0, resumed.Counts["b"], 12);

            await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, [Event(7, "d", T0.AddHours(3))]);
            await Eventually.Until(() => tracker.Snapshot().Counts.ContainsKey("d"), Patience, () => "event d not counted");
            var after = tracker.Snapshot();
            Assert.Equal(8, after.Events);
            Assert.Equal(8, after.EventsSinceRefit);
            Assert.Equal(0.5, after.Counts["a"], 12);
            Assert.Equal(0.5, after.Counts["b"], 12);
            Assert.Equal(0.5, after.Counts["c"], 12);
            Assert.Equal(1.0, after.Counts["d"], 12);
        }
    }

    [Fact]
    public async Task A_bad_retrainer_setting_stops_the_host_naming_the_key()
    {
        var settings = RetrainerTestSettings.Create(kafka.BootstrapServers, redis.ConnectionString, _scratch.Sub("work"));
        settings["Retrainer:DriftThreshold"] = "2";
        var e = await Assert.ThrowsAnyAsync<Exception>(() => TestHost.StartAsync(settings, (s, c) => s.AddRetrainer(c)));
        Assert.Contains("Retrainer:DriftThreshold", e.Message);
    }
}
