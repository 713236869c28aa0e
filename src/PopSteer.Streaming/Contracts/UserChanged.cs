namespace PopSteer.Streaming.Contracts;

/// <summary>
/// Signal on popsteer.users.changed (Kafka key = <see cref="UserId"/>): the user's Redis sequence has changed and is
/// durable. Emitted once per user per Ingest batch, describing the newest event applied.
/// </summary>
public sealed record UserChanged
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    public required string UserId { get; init; }

    /// <summary>Items appended for this user in this batch (redeliveries excluded).</summary>
    public int Appended { get; init; }

    /// <summary>Length of the stored sequence after the append (capped at Sequences:MaxLength).</summary>
    public int SequenceLength { get; init; }

    /// <summary>The newest applied event's id and item.</summary>
    public required string LastEventId { get; init; }

    public required string LastItemId { get; init; }

    /// <summary>The newest applied event's own timestamp (event time).</summary>
    public DateTimeOffset EventTimestamp { get; init; }

    /// <summary>When that event entered Kafka (the message timestamp): the start of event-to-recommendation latency.</summary>
    public DateTimeOffset EnqueuedAt { get; init; }

    /// <summary>When Ingest had it durable in Redis.</summary>
    public DateTimeOffset AppliedAt { get; init; }
}
