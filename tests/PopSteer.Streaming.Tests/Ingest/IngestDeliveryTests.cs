using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using PopSteer.Ingest;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Sequences;
using PopSteer.Streaming.Tests.Infrastructure;

namespace PopSteer.Streaming.Tests.Ingest;

/// <summary>
/// Ingest's commits against the delivery reports of its signals (Ingest:OverlapDelivery): the next batch is collected
/// and appended while the last one's signals are acknowledged, yet nothing is committed before its signals are in, a
/// stream that goes quiet is committed to its end, and failed deliveries are re-sent before their batch is committed.
/// Its own mock cluster: the injected Produce errors hit every client of the cluster.
/// </summary>
public sealed class IngestDeliveryTests(RedisServerFixture redis, KafkaFixture kafka) : IClassFixture<RedisServerFixture>, IClassFixture<KafkaFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_stream_in_small_batches_is_committed_to_its_end_once_quiet_and_every_user_is_signalled(bool overlap)
    {
        var settings = new TestSettings(kafka.BootstrapServers, redis.ConnectionString);
        settings["Ingest:OverlapDelivery"] = overlap ? "true" : "false";
        settings["Ingest:MaxBatchSize"] = "25";
        var events = TestEvents.Generate(users: 60, items: 120, count: 1200, seed: 31);
        await using var ingest = await TestHost.StartAsync(settings, (s, c) => s.AddIngest(c));
        var metrics = ingest.Services.GetRequiredService<IngestMetrics>();
        // In chunks, so the input goes quiet between them with a batch in flight each time.
        foreach (var chunk in events.Chunk(300))
        {
            await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, chunk);
            await Task.Delay(300);
        }

        await Eventually.Until(() => metrics.EventsApplied >= events.Count, Patience, () => $"{metrics.EventsApplied} of {events.Count} applied");
        // While Ingest keeps running: the last batch is committed without waiting for another message.
        await Eventually.Until(() => Committed(settings) == End(settings), Patience, () => $"committed {Committed(settings)} of {End(settings)}");
        Assert.True(metrics.Batches >= events.Count / 25, $"{metrics.Batches} batches");
        Assert.Equal(events.Count, metrics.EventsApplied);
        Assert.Equal(0, metrics.EventsRedelivered);
        await SequenceAssert.MatchesGroundTruth(ingest.Services.GetRequiredService<SequenceStore>(), TestEvents.GroundTruth(events));
        AssertNewestSignals(settings, events);
    }

    [Fact]
    public async Task Signals_whose_delivery_fails_behind_the_next_batch_are_sent_again_before_their_batch_is_committed()
    {
        var settings = new TestSettings(kafka.BootstrapServers, redis.ConnectionString);
        settings["Ingest:OverlapDelivery"] = "true";
        settings["Ingest:MaxBatchSize"] = "20";
        var events = TestEvents.Generate(users: 50, items: 100, count: 600, seed: 32);
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, events);
        // The cluster's next Produce requests are Ingest's first signals: refused with an error librdkafka does not
        // retry itself, so the worker has to send them again.
        MockFaults.FailNextProduceRequests(kafka.Broker, ErrorCode.PolicyViolation, 3);

        await using var ingest = await TestHost.StartAsync(settings, (s, c) => s.AddIngest(c));
        var metrics = ingest.Services.GetRequiredService<IngestMetrics>();
        await Eventually.Until(() => metrics.EventsApplied >= events.Count, Patience, () => $"{metrics.EventsApplied} of {events.Count} applied");
        await Eventually.Until(() => Committed(settings) == End(settings), Patience, () => $"committed {Committed(settings)} of {End(settings)}");

        Assert.True(metrics.MessagesResent > 0, "the injected delivery failures should have made Ingest send signals again");
        // Applied once each: the retry settles the failed batch without appending the next one again.
        Assert.Equal(events.Count, metrics.EventsApplied);
        Assert.Equal(0, metrics.EventsRedelivered);
        await SequenceAssert.MatchesGroundTruth(ingest.Services.GetRequiredService<SequenceStore>(), TestEvents.GroundTruth(events));
        AssertNewestSignals(settings, events);
    }

    /// <summary>Each user's newest signal on the topic describes their last event.</summary>
    private static void AssertNewestSignals(TestSettings settings, IReadOnlyList<InteractionEvent> events)
    {
        var last = events.GroupBy(e => e.UserId).ToDictionary(g => g.Key, g => g.Last());
        var signals = KafkaTestClient.ConsumeValuesUntil(settings.BootstrapServers, settings.UsersChangedTopic, StreamingJsonContext.Default.UserChanged,
            seen => last.Values.All(e => seen.Any(s => s.LastEventId == e.EventId)), Patience);
        foreach (var (user, e) in last)
            Assert.Equal(e.EventId, signals.Where(s => s.UserId == user).MaxBy(s => s.EventTimestamp)!.LastEventId);
    }

    private static List<TopicPartition> Partitions(TestSettings settings)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = settings.BootstrapServers }).Build();
        return admin.GetMetadata(settings.InteractionsTopic, TimeSpan.FromSeconds(10)).Topics[0].Partitions
            .Select(p => new TopicPartition(settings.InteractionsTopic, p.PartitionId)).ToList();
    }

    private static long End(TestSettings settings)
    {
        using var reader = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = settings.BootstrapServers, GroupId = settings["Ingest:GroupId"] }).Build();
        return Partitions(settings).Sum(p => reader.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value);
    }

    private static long Committed(TestSettings settings)
    {
        using var reader = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = settings.BootstrapServers, GroupId = settings["Ingest:GroupId"], EnableAutoCommit = false }).Build();
        return reader.Committed(Partitions(settings), TimeSpan.FromSeconds(10)).Sum(o => Math.Max(0, o.Offset.Value));
    }
}
