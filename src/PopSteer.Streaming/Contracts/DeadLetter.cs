namespace PopSteer.Streaming.Contracts;

/// <summary>
/// A message that could not be processed, on popsteer.deadletter (Kafka key = the original key when it had one),
/// with the reason and the original bytes so it can be inspected, fixed and replayed.
/// </summary>
public sealed record DeadLetter
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    /// <summary>Stable machine-readable category.</summary>
    public required InvalidEventReason Code { get; init; }

    /// <summary>Human-readable reason naming the field and the problem.</summary>
    public required string Reason { get; init; }

    /// <summary>Where the message was read from.</summary>
    public required string Topic { get; init; }

    public int Partition { get; init; }

    public long Offset { get; init; }

    /// <summary>The original key bytes (base64 in JSON); null when the message had none.</summary>
    public byte[]? OriginalKey { get; init; }

    /// <summary>The original value bytes (base64 in JSON); empty for a tombstone.</summary>
    public required byte[] Original { get; init; }

    /// <summary>Which service dead-lettered it.</summary>
    public required string Source { get; init; }

    public DateTimeOffset FailedAt { get; init; }
}
