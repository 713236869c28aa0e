namespace PopSteer.Streaming.Sequences;

/// <summary>
/// What Ingest has applied from one source partition: the epoch (incremented each time the partition's log is found
/// to have restarted, e.g. a topic deleted and recreated with offsets from 0) and the highest offset applied in it
/// (-1 when none). Users' applied offsets are recorded per epoch, so a restarted log is not taken for a redelivery.
/// <see cref="Marker"/> identifies the record applied at <see cref="HighestApplied"/> (<see cref="SequenceStore.RecordMarker"/>;
/// null for state written before markers existed), so a restarted log that has already grown past that offset is
/// told apart from the old one: the record it now holds there is a different one.
/// </summary>
public readonly record struct PartitionState(int Epoch, long HighestApplied, string? Marker = null)
{
    public static PartitionState None { get; } = new(0, -1);
}
