using Confluent.Kafka;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Sequences;
using PopSteer.Streaming.Tests.Infrastructure;

namespace PopSteer.Streaming.Tests.Scoring;

/// <summary>
/// Recommendations whose delivery fails while later batches are already published (Scoring:BatchesInFlight): the
/// failed batch and everything after it are consumed again, nothing is committed past an undelivered batch, and
/// every user still gets the recommendation for their signal. Its own mock cluster (the injected errors hit every
/// Produce request of the cluster), and apart from other Scorer hosts, whose failure counters it would read.
/// </summary>
[Collection(Retraining.RetrainerHostsCollection.Name)]
public sealed class ScorerDeliveryFailureTests(RedisServerFixture redis, KafkaFixture kafka) : ScorerTestBed(redis, kafka)
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)] // batches scored beside each other on pool threads (Scoring:ConcurrentBatches)
    public async Task A_batch_whose_delivery_fails_behind_later_batches_is_scored_again_and_nothing_is_committed_past_it(int concurrentBatches)
    {
        await PublishTinyModelAsync("a", seed: 7);
        var users = Enumerable.Range(0, 400).Select(i => $"d{i}").ToArray();
        await Store.AppendAsync(users.Select((u, i) => new SequenceAppend(u, $"i{1 + i % 25}", T0.AddSeconds(i), Settings.InteractionsTopic, 0, NextOffset())).ToArray());
        var group = $"scorer-{Guid.NewGuid():N}";
        // Small batches, so several are in flight when the faults land.
        await SignalAsync(Round(users, T0.AddDays(2)));
        // A refusal Kafka never retries (counted against the batch), for the next two Produce requests: with the
        // signals already in, those are the Scorer's first recommendations.
        MockFaults.FailNextProduceRequests(Kafka.Broker, ErrorCode.TopicAuthorizationFailed, 2);
        await using var scorer = Scorer(Scratch.Sub("cache"), ("Scoring:GroupId", group), ("Scoring:MaxBatchSize", "16"), ("Scoring:BatchesInFlight", "3"),
            ("Scoring:ConcurrentBatches", concurrentBatches.ToString()));
        await scorer.StartAsync();

        var recs = Recommendations(seen => Have(seen, users, T0.AddDays(2)));
        Assert.All(users, u => Assert.Contains(recs, r => r.UserId == u && r.EventTimestamp == T0.AddDays(2)));
        Assert.True(scorer.Counter("popsteer.scorer.batches_failed") > 0, "an injected delivery failure should fail a batch");
        Assert.Equal(0, scorer.Counter("popsteer.scorer.users_dead_lettered"));

        // Every signal ends committed once the retried batches are delivered: nothing is left behind the failure.
        using var reader = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = Kafka.BootstrapServers, GroupId = group, EnableAutoCommit = false }).Build();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Kafka.BootstrapServers }).Build();
        var partitions = admin.GetMetadata(Settings.UsersChangedTopic, TimeSpan.FromSeconds(10)).Topics[0].Partitions
            .Select(p => new TopicPartition(Settings.UsersChangedTopic, p.PartitionId)).ToList();
        long end = partitions.Sum(p => reader.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value);
        var deadline = DateTime.UtcNow + Patience;
        long committed;
        while ((committed = reader.Committed(partitions, TimeSpan.FromSeconds(10)).Sum(o => Math.Max(0, o.Offset.Value))) < end && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.Equal(end, committed);
    }

    private static IEnumerable<UserChanged> Round(IEnumerable<string> users, DateTimeOffset marker) => users.Select(u => new UserChanged
    {
        UserId = u, LastEventId = $"{u}-{marker.ToUnixTimeMilliseconds()}", LastItemId = "-", EventTimestamp = marker, EnqueuedAt = DateTimeOffset.UtcNow,
    });

    private static bool Have(IReadOnlyList<Recommendation> seen, IEnumerable<string> users, DateTimeOffset marker)
    {
        var have = seen.Where(r => r.EventTimestamp == marker).Select(r => r.UserId).ToHashSet();
        return users.All(have.Contains);
    }
}
