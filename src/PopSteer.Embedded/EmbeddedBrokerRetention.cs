using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace PopSteer.Embedded;

/// <summary>
/// Retention for the embedded broker: every <c>interval</c> it deletes, per partition, the records that every named
/// consumer group of the topic has committed past. Why the embedded broker needs it: librdkafka's mock finds a fetch's
/// offset by walking the partition's whole list of message sets ("FIXME: Maintain an index" in its source), and a
/// consumer waiting at the end of the log walks all of it on every fetch. A paced stream writes about one event per
/// set, so without trimming the broker's work per fetch grows with the log until its one thread is saturated (after
/// ~35 s at ~600 events/s; docs/speed.md). A real broker indexes offsets and keeps its own retention; this is only for
/// the demo and the local benches. Nothing a group still needs is deleted: a partition is trimmed only to the lowest
/// offset all its groups committed, and not at all while any of them has committed nothing there.
/// </summary>
public sealed class EmbeddedBrokerRetention : IAsyncDisposable
{
    private readonly EmbeddedKafkaBroker _broker;
    private readonly IReadOnlyList<(string Topic, IReadOnlyList<string> Groups)> _topics;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Dictionary<TopicPartition, long> _trimmedTo = [];
    private long _deleted;

    public EmbeddedBrokerRetention(EmbeddedKafkaBroker broker, IReadOnlyList<(string Topic, IReadOnlyList<string> Groups)> topics, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        if (topics.Any(t => t.Groups.Count == 0)) throw new ArgumentException("Every trimmed topic needs at least one consumer group to trim behind.", nameof(topics));
        _broker = broker;
        _topics = topics;
        _loop = Task.Run(() => RunAsync(interval, _stop.Token));
    }

    /// <summary>Records deleted so far, over every partition.</summary>
    public long RecordsDeleted => Interlocked.Read(ref _deleted);

    /// <summary>The last error of a trimming pass (null when the last pass succeeded); the next pass tries again.</summary>
    public string? LastError { get; private set; }

    private async Task RunAsync(TimeSpan interval, CancellationToken stop)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _broker.BootstrapServers }).Build();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, stop);
                foreach (var (topic, groups) in _topics) await TrimAsync(admin, topic, groups);
                LastError = null;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is KafkaException or InvalidOperationException)
            {
                LastError = e.Message; // a busy broker or a group between generations: the next pass tries again
            }
        }
    }

    private async Task TrimAsync(IAdminClient admin, string topic, IReadOnlyList<string> groups)
    {
        var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(2));
        var partitions = metadata.Topics.SelectMany(t => t.Partitions.Select(p => new TopicPartition(topic, p.PartitionId))).ToList();
        if (partitions.Count == 0) return;
        // The lowest committed offset per partition over the groups; a partition some group never committed stays whole.
        var lowest = partitions.ToDictionary(p => p, _ => long.MaxValue);
        foreach (var group in groups)
        {
            var committed = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, partitions)],
                new ListConsumerGroupOffsetsOptions { RequestTimeout = TimeSpan.FromSeconds(2) });
            var offsets = committed.SelectMany(c => c.Partitions).ToDictionary(p => p.TopicPartition, p => p.Offset.Value);
            foreach (var partition in partitions)
                lowest[partition] = offsets.TryGetValue(partition, out var offset) && offset >= 0 ? Math.Min(lowest[partition], offset) : -1;
        }
        foreach (var (partition, offset) in lowest)
        {
            long from = _trimmedTo.GetValueOrDefault(partition);
            if (offset <= from) continue;
            _broker.DeleteRecordsBefore(topic, partition.Partition.Value, offset);
            _trimmedTo[partition] = offset;
            Interlocked.Add(ref _deleted, offset - from);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
