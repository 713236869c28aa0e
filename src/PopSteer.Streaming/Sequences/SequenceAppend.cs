namespace PopSteer.Streaming.Sequences;

/// <summary>
/// One event to apply: the item to append to the user's sequence and the Kafka position it came from. The position
/// is what makes the append idempotent: a position at or below the last one applied for that user and source
/// partition (and <see cref="PartitionState.Epoch"/> of that partition's log) is skipped. <paramref name="Marker"/>
/// identifies the source record (<see cref="SequenceStore.RecordMarker"/>); the partition keeps that of its highest one.
/// </summary>
public readonly record struct SequenceAppend(string UserId, string ItemId, DateTimeOffset Timestamp, string Topic, int Partition, long Offset, int Epoch = 0, string? Marker = null);
