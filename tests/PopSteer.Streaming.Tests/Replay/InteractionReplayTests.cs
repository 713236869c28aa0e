using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PopSteer.Core.Data;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Kafka;
using PopSteer.Streaming.Replay;
using PopSteer.Streaming.Tests.Infrastructure;

namespace PopSteer.Streaming.Tests.Replay;

public sealed class InteractionReplayTests(KafkaFixture kafka) : IClassFixture<KafkaFixture>
{
    [Fact]
    public void Rows_become_events_in_time_order_with_ties_in_file_order_and_seconds_as_milliseconds()
    {
        Interaction[] rows = [new("u1", "a", 300), new("u2", "b", 100), new("u1", "c", 100, 4f), new("u1", "d", 200)];

        var events = InteractionReplay.ToEvents(rows, "f:");

        Assert.Equal(["b", "c", "d", "a"], events.Select(e => e.ItemId));
        Assert.Equal(["f:1", "f:2", "f:3", "f:0"], events.Select(e => e.EventId));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(100), events[0].Timestamp);
        Assert.Equal(4.0, events[1].Weight);
        Assert.Null(events[0].Weight);

        var millis = InteractionReplay.ToEvents([new("u", "x", 1_714_564_800_123)]);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_714_564_800_123), millis[0].Timestamp);
    }

    [Fact]
    public async Task Replay_delivers_every_event_keyed_by_user_in_per_user_order()
    {
        var settings = new TestSettings(kafka.BootstrapServers, "127.0.0.1:1");
        using var services = StreamingServices.Build(settings);
        var replay = new InteractionReplay(services.GetRequiredService<KafkaClientFactory>());
        var events = TestEvents.Generate(users: 30, items: 50, count: 500, seed: 4);

        var result = await replay.RunAsync(events, settings.InteractionsTopic, eventsPerSecond: 2000);

        Assert.Equal(500, result.Sent);
        Assert.Equal(0, result.Failed);
        var read = KafkaTestClient.ConsumeUntil(settings.BootstrapServers, settings.InteractionsTopic, seen => seen.Count >= 500, TimeSpan.FromSeconds(60));
        var received = read.Select(r => (Key: Encoding.UTF8.GetString(r.Message.Key!), Event: JsonSerializer.Deserialize(r.Message.Value, StreamingJsonContext.Default.InteractionEvent)!)).ToArray();
        Assert.All(received, r => Assert.Equal(r.Key, r.Event.UserId));
        foreach (var user in events.GroupBy(e => e.UserId))
            Assert.Equal(user.Select(e => e.EventId), received.Where(r => r.Key == user.Key).Select(r => r.Event.EventId));
    }
}
