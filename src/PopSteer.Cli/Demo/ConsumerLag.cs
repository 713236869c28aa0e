using Confluent.Kafka;
using Confluent.Kafka.Admin;
using PopSteer.Streaming.Kafka;

namespace PopSteer.Cli.Demo;

/// <summary>
/// Messages a consumer group has not committed yet on a topic: sum over partitions of (high watermark - committed).
/// Read the way an operator's tooling reads it, from the broker, not from the workers' own counters.
/// </summary>
internal sealed class ConsumerLag : IDisposable
{
    private readonly IAdminClient _admin;
    private readonly IConsumer<byte[], byte[]> _probe;

    public ConsumerLag(KafkaClientFactory kafka)
    {
        _admin = kafka.CreateAdmin();
        // A consumer handle only for QueryWatermarkOffsets; it never subscribes, so it joins no group.
        _probe = kafka.CreateConsumer("popsteer-demo-lag-probe");
    }

    public async Task<long?> LagAsync(string groupId, string topic)
    {
        try
        {
            var metadata = _admin.GetMetadata(topic, TimeSpan.FromSeconds(2));
            var partitions = metadata.Topics.SelectMany(t => t.Partitions.Select(p => new TopicPartition(topic, p.PartitionId))).ToList();
            if (partitions.Count == 0) return 0;
            var committed = await _admin.ListConsumerGroupOffsetsAsync(
                [new ConsumerGroupTopicPartitions(groupId, partitions)],
                new ListConsumerGroupOffsetsOptions { RequestTimeout = TimeSpan.FromSeconds(2) });
            var offsets = committed.SelectMany(c => c.Partitions).ToDictionary(p => p.TopicPartition, p => p.Offset);
            long lag = 0;
            foreach (var partition in partitions)
            {
                var watermarks = _probe.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(2));
                long high = watermarks.High.Value;
                long done = offsets.TryGetValue(partition, out var o) && o.Value >= 0 ? o.Value : watermarks.Low.Value;
                lag += Math.Max(0, high - done);
            }
            return lag;
        }
        catch (KafkaException)
        {
            return null; // shown as "?" while the broker is busy; the next tick asks again
        }
    }

    public void Dispose()
    {
        _probe.Dispose();
        _admin.Dispose();
    }
}
