using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using PopSteer.Ingest;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Sequences;
using PopSteer.Streaming.Tests.Infrastructure;
using StackExchange.Redis;

namespace PopSteer.Streaming.Tests.Ingest;

/// <summary>Inputs and faults that used to stop Ingest: oversized messages, a failing worker, unacknowledged replicas.</summary>
public sealed class IngestHardeningTests(RedisServerFixture redis, KafkaFixture kafka) : IClassFixture<RedisServerFixture>, IClassFixture<KafkaFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private static (List<InteractionEvent> Good, List<(byte[]? Key, byte[]? Value)> Messages, byte[] Big) StreamWithOneHugeMessage(int bigBytes, int seed)
    {
        var good = TestEvents.Generate(users: 30, items: 60, count: 300, seed: seed);
        var head = Encoding.UTF8.GetBytes("""{"schemaVersion":1,"eventId":"huge","userId":"bad-user","itemId":"i","timestamp":"2024-05-01T12:00:00Z","pad":" """);
        var big = new byte[bigBytes];
        head.CopyTo(big, 0);
        big.AsSpan(head.Length, bigBytes - head.Length - 2).Fill((byte)'x');
        "\"}"u8.CopyTo(big.AsSpan(bigBytes - 2));
        var messages = good.Select(e => ((byte[]?)Encoding.UTF8.GetBytes(e.UserId), (byte[]?)KafkaTestClient.Serialize(e))).ToList();
        messages.Insert(150, (Encoding.UTF8.GetBytes("bad-user"), big));
        return (good, messages, big);
    }

    /// <summary>
    /// Streams good events around one message of <paramref name="bigBytes"/>, waits until Ingest has applied the good
    /// ones and dead-lettered the big one, checks the sequences, and returns the dead letter and the original bytes.
    /// </summary>
    private async Task<(DeadLetter Letter, byte[] Big)> DeadLetterOfOneHugeMessage(TestSettings settings, int bigBytes, int seed)
    {
        var (good, messages, big) = StreamWithOneHugeMessage(bigBytes, seed);
        await KafkaTestClient.ProduceAsync(settings.BootstrapServers, settings.InteractionsTopic, messages);

        await using var ingest = await TestHost.StartAsync(settings, (s, c) => s.AddIngest(c));
        var metrics = ingest.Services.GetRequiredService<IngestMetrics>();
        await Eventually.Until(() => metrics.EventsApplied >= good.Count && metrics.DeadLettered >= 1, Patience,
            () => $"{metrics.EventsApplied} applied, {metrics.DeadLettered} dead-lettered");
        await SequenceAssert.MatchesGroundTruth(ingest.Services.GetRequiredService<SequenceStore>(), TestEvents.GroundTruth(good));

        var letter = Assert.Single(KafkaTestClient.ConsumeValuesUntil(settings.BootstrapServers, settings.DeadLetterTopic,
            StreamingJsonContext.Default.DeadLetter, seen => seen.Count >= 1, Patience));
        Assert.Equal(InvalidEventReason.PayloadTooLarge, letter.Code);
        Assert.True(letter.Truncated);
        Assert.Equal(big.Length, letter.OriginalLength);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(big)), letter.OriginalSha256);
        return (letter, big);
    }

    [Fact]
    public async Task A_message_near_Kafkas_size_limit_is_dead_lettered_truncated_with_its_length_and_hash_and_the_stream_goes_on()
    {
        var settings = new TestSettings(kafka.BootstrapServers, redis.ConnectionString);
        var (letter, big) = await DeadLetterOfOneHugeMessage(settings, 900_000, seed: 21);
        Assert.Equal(big.AsSpan(0, InteractionEventValidator.DefaultMaxPayloadBytes).ToArray(), letter.Original);
        Assert.Equal("bad-user"u8.ToArray(), letter.OriginalKey);
    }

    [Fact]
    public async Task A_dead_letter_the_broker_refuses_as_too_large_is_sent_without_its_bytes()
    {
        var settings = new TestSettings(kafka.BootstrapServers, redis.ConnectionString);
        // The producer's own limit below the dead letter's size (16 KiB kept = 22 KB of base64): MsgSizeTooLarge.
        settings["Kafka:Producer:message.max.bytes"] = "8000";
        var (letter, _) = await DeadLetterOfOneHugeMessage(settings, 40_000, seed: 22);
        Assert.Empty(letter.Original);
    }

    [Fact]
    public async Task A_worker_that_fails_makes_the_ingest_process_exit_non_zero()
    {
        // A Redis user that may not run scripts: every append fails with NOPERM, which no retry can fix.
        var user = $"noscripts{Guid.NewGuid():N}"[..20];
        using (var admin = ConnectionMultiplexer.Connect(redis.ConnectionString + ",allowAdmin=true"))
            await admin.GetDatabase().ExecuteAsync("ACL", "SETUSER", user, "on", ">pw", "~*", "&*", "+@all", "-@scripting");
        var settings = new TestSettings(kafka.BootstrapServers, $"{redis.ConnectionString},user={user},password=pw");
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, TestEvents.Generate(users: 3, items: 5, count: 10, seed: 23));

        using var ingest = ServiceProcess.Start(settings);
        Assert.True(ingest.WaitForExit(Patience), $"ingest kept running with a failed worker:\n{ingest.Output}");
        Assert.True(ingest.ExitCode != 0, $"exit code {ingest.ExitCode}:\n{ingest.Output}");
        Assert.True(ingest.Wrote("NOPERM"), $"no NOPERM in the output:\n{ingest.Output}");
    }

    [Fact]
    public async Task With_WaitReplicas_nothing_is_committed_until_a_replica_has_it()
    {
        using var replica = new RedisServerFixture();
        var settings = new TestSettings(kafka.BootstrapServers, redis.ConnectionString);
        settings["Redis:WaitReplicas"] = "1";
        settings["Redis:WaitTimeout"] = "00:00:00.200";
        settings["Ingest:RetryPause"] = "00:00:00.200";
        var events = TestEvents.Generate(users: 20, items: 40, count: 200, seed: 24);
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, events);

        await using var ingest = await TestHost.StartAsync(settings, (s, c) => s.AddIngest(c));
        var metrics = ingest.Services.GetRequiredService<IngestMetrics>();
        await Task.Delay(4000);
        Assert.Equal(0, metrics.Batches); // written to the primary, but no replica acknowledged: not durable, not committed

        using (var admin = ConnectionMultiplexer.Connect(replica.ConnectionString + ",allowAdmin=true"))
            await admin.GetServer("127.0.0.1", replica.Port).ReplicaOfAsync(new System.Net.DnsEndPoint("127.0.0.1", redis.Port));
        await Eventually.Until(() => metrics.EventsApplied + metrics.EventsRedelivered >= events.Count, Patience,
            () => $"{metrics.EventsApplied} applied, {metrics.EventsRedelivered} redelivered after the replica joined");
        await SequenceAssert.MatchesGroundTruth(ingest.Services.GetRequiredService<SequenceStore>(), TestEvents.GroundTruth(events));

        // The replica holds the same sequences.
        using var readReplica = ConnectionMultiplexer.Connect(replica.ConnectionString);
        var store = ingest.Services.GetRequiredService<SequenceStore>();
        var someone = events[0].UserId;
        var onReplica = await readReplica.GetDatabase().ListRangeAsync(store.SequenceKey(someone));
        Assert.Equal(TestEvents.GroundTruth(events)[someone].Length, onReplica.Length);
    }

    [Fact]
    public async Task A_topic_recreated_with_offsets_from_zero_is_detected_and_its_events_are_applied_not_dropped()
    {
        // The old log reached offset 100000: the new one ends long before it.
        var metrics = await IngestRecreatedTopicAsync(seed: 25, oldOffset: 100_000, oldMarker: null);
        Assert.Equal(0, metrics.EventsRedelivered);
        Assert.InRange(metrics.PartitionResets, 1, 4);
    }

    [Fact]
    public async Task A_topic_recreated_and_grown_past_the_old_applied_offset_is_detected_by_the_record_there()
    {
        // The old log reached offset 10, which the new one (~50 records a partition) has long passed, with a record
        // that is not the one the new log holds there.
        var metrics = await IngestRecreatedTopicAsync(seed: 26, oldOffset: 10, oldMarker: SequenceStore.RecordMarker(null, [1, 2, 3], 0));
        Assert.Equal(0, metrics.EventsRedelivered);
        Assert.Equal(4, metrics.PartitionResets);
    }

    /// <summary>
    /// Replays 200 events into a fresh topic over the Redis an earlier incarnation of it left: every partition p applied
    /// up to offset <paramref name="oldOffset"/> + p (by a record with <paramref name="oldMarker"/>), every user with
    /// one old item applied at that offset. Runs Ingest over it and checks that every new event followed the old item.
    /// </summary>
    private async Task<IngestMetrics> IngestRecreatedTopicAsync(int seed, long oldOffset, string? oldMarker)
    {
        var settings = new TestSettings(kafka.BootstrapServers, redis.ConnectionString);
        var events = TestEvents.Generate(users: 20, items: 40, count: 200, seed: seed);
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, events);
        using (var services = StreamingServices.Build(settings))
        {
            var store = services.GetRequiredService<SequenceStore>();
            var old = events.Select(e => e.UserId).Distinct().SelectMany(u => Enumerable.Range(0, 4)
                .Select(p => new SequenceAppend(u, "before-recreate", TestEvents.Start, settings.InteractionsTopic, p, oldOffset + p, Marker: oldMarker))).ToArray();
            await store.AppendAsync(old);
        }

        await using var ingest = await TestHost.StartAsync(settings, (s, c) => s.AddIngest(c));
        var metrics = ingest.Services.GetRequiredService<IngestMetrics>();
        await Eventually.Until(() => metrics.EventsApplied + metrics.EventsRedelivered >= events.Count, Patience,
            () => $"{metrics.EventsApplied} applied, {metrics.EventsRedelivered} taken for redeliveries, {metrics.PartitionResets} resets");
        var truth = TestEvents.GroundTruth(events).ToDictionary(kv => kv.Key, kv => Enumerable.Repeat("before-recreate", 4).Concat(kv.Value).ToArray());
        await SequenceAssert.MatchesGroundTruth(ingest.Services.GetRequiredService<SequenceStore>(), truth);
        return metrics;
    }
}
