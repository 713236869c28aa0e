using System.Text.Json.Serialization;

namespace PopSteer.Streaming.Contracts;

/// <summary>
/// One user-item interaction on popsteer.interactions (Kafka key = <see cref="UserId"/>). Ids are the catalogue's
/// external ids, always strings. On the wire <see cref="Timestamp"/> is ISO-8601 with an offset or epoch
/// milliseconds; it is written back as ISO-8601 UTC. Validate incoming bytes with <see cref="InteractionEventValidator"/>.
/// </summary>
public sealed record InteractionEvent
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    /// <summary>Producer-assigned id, unique per event; carried into signals and dead letters for tracing.</summary>
    public required string EventId { get; init; }

    public required string UserId { get; init; }

    public required string ItemId { get; init; }

    /// <summary>When the interaction happened (event time, not processing time). Millisecond precision.</summary>
    [JsonConverter(typeof(EventTimestampConverter))]
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>Optional kind ("view", "click", "rating", ...); carried, not interpreted by the method.</summary>
    public string? Type { get; init; }

    /// <summary>Optional non-negative weight; the method counts every interaction as 1.</summary>
    public double? Weight { get; init; }
}
