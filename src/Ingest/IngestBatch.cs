using Confluent.Kafka;
using PopSteer.Streaming.Contracts;

namespace PopSteer.Ingest;

/// <summary>The messages in hand, each already validated, and the offsets to commit once they are durable.</summary>
internal sealed class IngestBatch
{
    private readonly List<(ConsumeResult<byte[], byte[]> Message, InteractionValidationResult Validation)> _items = [];

    public int Count => _items.Count;

    public IReadOnlyList<(ConsumeResult<byte[], byte[]> Message, InteractionValidationResult Validation)> Items => _items;

    public void Add(ConsumeResult<byte[], byte[]> message, InteractionValidationResult validation) => _items.Add((message, validation));

    public void Clear() => _items.Clear();

    /// <summary>Forgets messages of partitions this instance no longer owns; the new owner gets them again.</summary>
    public int RemovePartitions(IEnumerable<TopicPartition> partitions)
    {
        var lost = partitions.ToHashSet();
        return _items.RemoveAll(i => lost.Contains(i.Message.TopicPartition));
    }

    /// <summary>Per partition, the offset after the last message in hand: Kafka's "next to read" convention.</summary>
    public IReadOnlyList<TopicPartitionOffset> NextOffsets() =>
        _items.GroupBy(i => i.Message.TopicPartition)
            .Select(g => new TopicPartitionOffset(g.Key, new Offset(g.Max(i => i.Message.Offset.Value) + 1)))
            .ToArray();
}
