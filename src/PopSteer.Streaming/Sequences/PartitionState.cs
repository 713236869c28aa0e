namespace PopSteer.Streaming.Sequences;

/// <summary>
/// What Ingest has applied from one source partition: the epoch (incremented each time the partition's log is found
/// to have restarted, e.g. a topic deleted and recreated with offsets from 0) and the highest offset applied in it
/// (-1 when none). Users' applied offsets are recorded per epoch, so a restarted log is not taken for a redelivery.
/// </summary>
public readonly record struct PartitionState(int Epoch, long HighestApplied)
{
    public static PartitionState None { get; } = new(0, -1);
}
