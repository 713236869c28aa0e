using System.Security.Cryptography;

namespace PopSteer.Streaming.Contracts;

/// <summary>
/// A message that could not be processed, on popsteer.deadletter (Kafka key = the original key when it had one),
/// with the reason and the original bytes so it can be inspected, fixed and replayed. A dead letter must always fit
/// the producer's message.max.bytes, or the message that caused it would stop the consumer: the original value is
/// kept up to a budget (<see cref="Create"/>), and its full length and SHA-256 always travel with it.
/// </summary>
public sealed record DeadLetter
{
    public const int CurrentSchemaVersion = 1;

    /// <summary>Original key bytes kept at most (a Kafka key may be as large as a value).</summary>
    public const int MaxKeyBytes = 1024;

    /// <summary>Reason text kept at most.</summary>
    public const int MaxReasonLength = 1024;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    /// <summary>Stable machine-readable category.</summary>
    public required InvalidEventReason Code { get; init; }

    /// <summary>Human-readable reason naming the field and the problem.</summary>
    public required string Reason { get; init; }

    /// <summary>Where the message was read from.</summary>
    public required string Topic { get; init; }

    public int Partition { get; init; }

    public long Offset { get; init; }

    /// <summary>The original key bytes (base64 in JSON), at most <see cref="MaxKeyBytes"/>; null when the message had none.</summary>
    public byte[]? OriginalKey { get; init; }

    /// <summary>The original value bytes (base64 in JSON); empty for a tombstone; the first bytes only when <see cref="Truncated"/>.</summary>
    public required byte[] Original { get; init; }

    /// <summary>Length in bytes of the whole original value, whether or not <see cref="Original"/> holds all of it.</summary>
    public int OriginalLength { get; init; }

    /// <summary>Lower-case hex SHA-256 of the whole original value: finds it in the topic when it was truncated.</summary>
    public string? OriginalSha256 { get; init; }

    /// <summary>Length in bytes of the whole original key (0 when it had none).</summary>
    public int OriginalKeyLength { get; init; }

    /// <summary>True when <see cref="Original"/> or <see cref="OriginalKey"/> holds only the first bytes.</summary>
    public bool Truncated { get; init; }

    /// <summary>Which service dead-lettered it.</summary>
    public required string Source { get; init; }

    public DateTimeOffset FailedAt { get; init; }

    /// <summary>
    /// A dead letter whose size is bounded whatever the message: at most <paramref name="maxPayloadBytes"/> of the value,
    /// <see cref="MaxKeyBytes"/> of the key and <see cref="MaxReasonLength"/> characters of reason.
    /// </summary>
    public static DeadLetter Create(InvalidEventReason code, string reason, string topic, int partition, long offset,
        byte[]? key, byte[]? value, string source, DateTimeOffset failedAt, int maxPayloadBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxPayloadBytes);
        value ??= [];
        var keptValue = value.Length <= maxPayloadBytes ? value : value[..maxPayloadBytes];
        var keptKey = key is null || key.Length <= MaxKeyBytes ? key : key[..MaxKeyBytes];
        return new DeadLetter
        {
            Code = code,
            Reason = reason.Length <= MaxReasonLength ? reason : reason[..MaxReasonLength] + "...",
            Topic = topic,
            Partition = partition,
            Offset = offset,
            OriginalKey = keptKey,
            OriginalKeyLength = key?.Length ?? 0,
            Original = keptValue,
            OriginalLength = value.Length,
            OriginalSha256 = Convert.ToHexStringLower(SHA256.HashData(value)),
            Truncated = keptValue.Length < value.Length || (key is not null && keptKey!.Length < key.Length),
            Source = source,
            FailedAt = failedAt,
        };
    }

    /// <summary>The same letter without any original bytes: the last resort when even the bounded letter is refused.</summary>
    public DeadLetter WithoutOriginal() => this with { Original = [], OriginalKey = null, Truncated = true };
}
