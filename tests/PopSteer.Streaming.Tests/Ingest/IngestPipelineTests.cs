using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PopSteer.Ingest;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Sequences;
using PopSteer.Streaming.Tests.Infrastructure;

namespace PopSteer.Streaming.Tests.Ingest;

/// <summary>Ingest against a real redis-server and the mock Kafka cluster over TCP.</summary>
public sealed class IngestPipelineTests(RedisServerFixture redis, KafkaFixture kafka) : IClassFixture<RedisServerFixture>, IClassFixture<KafkaFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Thousands_of_events_become_exact_sequences_and_every_user_is_signalled()
    {
        var settings = new TestSettings(kafka.BootstrapServers, redis.ConnectionString);
        var events = TestEvents.Generate(users: 200, items: 300, count: 3000, seed: 7);
        var truth = TestEvents.GroundTruth(events);
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, events);

        await using var ingest = await TestHost.StartAsync(settings, (s, c) => s.AddIngest(c));
        var store = ingest.Services.GetRequiredService<SequenceStore>();
        var metrics = ingest.Services.GetRequiredService<IngestMetrics>();
        await Eventually.Until(() => metrics.EventsApplied >= events.Count, Patience, () => $"{metrics.EventsApplied} of {events.Count} applied");

        await SequenceAssert.MatchesGroundTruth(store, truth);
        Assert.Equal(0, metrics.DeadLettered);
        Assert.Equal(events.Count, metrics.EventsApplied);

        // Each user's newest signal describes their last event and the stored length.
        var last = events.GroupBy(e => e.UserId).ToDictionary(g => g.Key, g => g.Last());
        var signals = KafkaTestClient.ConsumeValuesUntil(settings.BootstrapServers, settings.UsersChangedTopic, StreamingJsonContext.Default.UserChanged,
            seen => last.Values.All(e => seen.Any(s => s.LastEventId == e.EventId)), Patience);
        foreach (var (user, e) in last)
        {
            var newest = signals.Where(s => s.UserId == user).MaxBy(s => s.EventTimestamp)!;
            Assert.Equal(e.EventId, newest.LastEventId);
            Assert.Equal(e.ItemId, newest.LastItemId);
            Assert.Equal(e.Timestamp, newest.EventTimestamp);
            Assert.Equal(truth[user].Length, newest.SequenceLength);
            Assert.True(newest.AppliedAt >= newest.EnqueuedAt);
        }
        Assert.DoesNotContain(signals, s => !truth.ContainsKey(s.UserId));
    }

    [Fact]
    public async Task Graceful_restart_mid_stream_commits_what_is_durable_so_nothing_is_redelivered()
    {
        var settings = new TestSettings(kafka.BootstrapServers, redis.ConnectionString);
        settings["Ingest:MaxBatchSize"] = "100";
        var events = TestEvents.Generate(users: 80, items: 150, count: 2000, seed: 9);
        var truth = TestEvents.GroundTruth(events);
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, events.Take(1000));

        long firstApplied;
        await using (var first = await TestHost.StartAsync(settings, (s, c) => s.AddIngest(c)))
        {
            var metrics = first.Services.GetRequiredService<IngestMetrics>();
            await Eventually.Until(() => metrics.EventsApplied >= 300, Patience, () => $"{metrics.EventsApplied} applied");
            await first.StopAsync();
            firstApplied = metrics.EventsApplied;
        }

        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, events.Skip(1000));
        await using var second = await TestHost.StartAsync(settings, (s, c) => s.AddIngest(c));
        var again = second.Services.GetRequiredService<IngestMetrics>();
        await Eventually.Until(() => firstApplied + again.EventsApplied >= events.Count, Patience,
            () => $"{firstApplied} + {again.EventsApplied} of {events.Count} applied");

        await SequenceAssert.MatchesGroundTruth(second.Services.GetRequiredService<SequenceStore>(), truth);
        Assert.Equal(0, again.EventsRedelivered);
    }

    [Fact]
    public async Task Events_written_to_redis_but_never_committed_are_skipped_on_redelivery()
    {
        var settings = new TestSettings(kafka.BootstrapServers, redis.ConnectionString);
        var events = TestEvents.Generate(users: 60, items: 100, count: 1200, seed: 13);
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, events);

        // A worker that crashed after its Redis write and before its commit: the first 100 messages of every partition
        // are already applied with their real positions, and the group has committed nothing.
        var log = KafkaTestClient.ConsumeUntil(settings.BootstrapServers, settings.InteractionsTopic, seen => seen.Count >= events.Count, Patience);
        var crashed = log.GroupBy(m => m.Partition.Value).SelectMany(p => p.OrderBy(m => m.Offset.Value).Take(100))
            .Select(m => (Message: m, Event: JsonSerializer.Deserialize(m.Message.Value, StreamingJsonContext.Default.InteractionEvent)!))
            .Select(x => new SequenceAppend(x.Event.UserId, x.Event.ItemId, x.Event.Timestamp, x.Message.Topic, x.Message.Partition.Value, x.Message.Offset.Value))
            .ToArray();
        using (var services = StreamingServices.Build(settings))
            await services.GetRequiredService<SequenceStore>().AppendAsync(crashed);

        await using var ingest = await TestHost.StartAsync(settings, (s, c) => s.AddIngest(c));
        var metrics = ingest.Services.GetRequiredService<IngestMetrics>();
        await Eventually.Until(() => metrics.EventsApplied + metrics.EventsRedelivered >= events.Count, Patience,
            () => $"{metrics.EventsApplied} applied, {metrics.EventsRedelivered} redelivered");

        Assert.Equal(crashed.Length, metrics.EventsRedelivered);
        Assert.Equal(events.Count - crashed.Length, metrics.EventsApplied);
        await SequenceAssert.MatchesGroundTruth(ingest.Services.GetRequiredService<SequenceStore>(), TestEvents.GroundTruth(events));
    }

    [Fact]
    public async Task Ingest_started_before_its_topic_exists_picks_up_events_once_they_arrive()
    {
        var settings = new TestSettings(kafka.BootstrapServers, redis.ConnectionString);
        // The demo starts the workers on a fresh broker before anything is replayed.
        await using var ingest = await TestHost.StartAsync(settings, (s, c) => s.AddIngest(c));
        await Task.Delay(2000);
        var events = TestEvents.Generate(users: 20, items: 50, count: 200, seed: 17);
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, events);
        var metrics = ingest.Services.GetRequiredService<IngestMetrics>();
        await Eventually.Until(() => metrics.EventsApplied >= events.Count, Patience, () => $"{metrics.EventsApplied} applied");
        await SequenceAssert.MatchesGroundTruth(ingest.Services.GetRequiredService<SequenceStore>(), TestEvents.GroundTruth(events));
    }

    [Fact]
    public async Task Malformed_events_are_dead_lettered_with_reasons_while_good_events_flow()
    {
        var settings = new TestSettings(kafka.BootstrapServers, redis.ConnectionString);
        var corpus = MalformedCorpus.Load();
        var good = TestEvents.Generate(users: 40, items: 100, count: 600, seed: 3);
        var messages = new List<(byte[]? Key, byte[]? Value)>();
        for (var i = 0; i < good.Count; i++)
        {
            messages.Add((Encoding.UTF8.GetBytes(good[i].UserId), KafkaTestClient.Serialize(good[i])));
            if (i % 10 == 7 && i / 10 < corpus.Count) messages.Add((corpus[i / 10].Key, corpus[i / 10].Payload));
        }
        Assert.Equal(good.Count + corpus.Count, messages.Count);
        await KafkaTestClient.ProduceAsync(settings.BootstrapServers, settings.InteractionsTopic, messages);

        await using var ingest = await TestHost.StartAsync(settings, (s, c) => s.AddIngest(c));
        var metrics = ingest.Services.GetRequiredService<IngestMetrics>();
        await Eventually.Until(() => metrics.EventsApplied >= good.Count && metrics.DeadLettered >= corpus.Count, Patience,
            () => $"{metrics.EventsApplied} applied, {metrics.DeadLettered} dead-lettered");

        var letters = KafkaTestClient.ConsumeValuesUntil(settings.BootstrapServers, settings.DeadLetterTopic, StreamingJsonContext.Default.DeadLetter,
            seen => seen.Count >= corpus.Count, Patience);
        Assert.Equal(corpus.Count, letters.Count);
        foreach (var c in corpus)
        {
            var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(c.Payload));
            var letter = Assert.Single(letters, l => l.OriginalSha256 == hash && SameKey(l.OriginalKey, c.Key));
            Assert.Equal(c.Payload.Length, letter.OriginalLength);
            // The original bytes, cut to the dead-letter budget when larger.
            Assert.Equal(c.Payload.Length > InteractionEventValidator.DefaultMaxPayloadBytes, letter.Truncated);
            Assert.Equal(c.Payload.Take(InteractionEventValidator.DefaultMaxPayloadBytes), letter.Original);
            Assert.True(c.Expected == letter.Code, $"{c.Name}: expected {c.Expected}, got {letter.Code} ({letter.Reason})");
            Assert.False(string.IsNullOrWhiteSpace(letter.Reason));
            Assert.Equal(settings.InteractionsTopic, letter.Topic);
            Assert.Equal("ingest", letter.Source);
            Assert.True(letter.Offset >= 0);
        }

        await SequenceAssert.MatchesGroundTruth(ingest.Services.GetRequiredService<SequenceStore>(), TestEvents.GroundTruth(good));
        Assert.Equal(good.Count, metrics.EventsApplied);
    }

    // Kafka does not distinguish an empty key from a missing one on the way back.
    private static bool SameKey(byte[]? a, byte[]? b) => (a ?? []).AsSpan().SequenceEqual(b ?? []);
}
