using System.Text.Json.Serialization;

namespace PopSteer.Streaming.Contracts;

/// <summary>
/// What the Scorer publishes on <c>popsteer.recommendations</c> (key = user id). Carries everything a consumer
/// needs to audit the list: the model version and steering knobs it was made with, and the triggering event's
/// timestamp so event-to-recommendation latency can be measured downstream.
/// </summary>
public sealed record Recommendation
{
    public const int CurrentSchemaVersion = 1;

    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    [JsonPropertyName("userId")] public required string UserId { get; init; }

    /// <summary>Ranked best first; external item ids.</summary>
    [JsonPropertyName("items")] public required IReadOnlyList<RecommendedItem> Items { get; init; }

    [JsonPropertyName("modelVersion")] public required string ModelVersion { get; init; }

    [JsonPropertyName("alpha")] public double Alpha { get; init; }

    [JsonPropertyName("neurons")] public int Neurons { get; init; }

    [JsonPropertyName("generatedAt")] public DateTimeOffset GeneratedAt { get; init; }

    /// <summary>Timestamp of the interaction that made this user change (null when the signal carried none).</summary>
    [JsonPropertyName("eventTimestamp")] public DateTimeOffset? EventTimestamp { get; init; }

    /// <summary>When the triggering event entered Kafka: <c>generatedAt - enqueuedAt</c> is the pipeline's latency.</summary>
    [JsonPropertyName("enqueuedAt")] public DateTimeOffset? EnqueuedAt { get; init; }

    /// <summary>
    /// Identifies the micro-batch (scorer instance + sequence number): every recommendation of one batch was made
    /// by one model version with one alpha/N, which lets consumers and tests check that no batch mixes versions.
    /// </summary>
    [JsonPropertyName("batchId")] public string? BatchId { get; init; }

    /// <summary>True when the user had no scorable history and got the configured fallback list.</summary>
    [JsonPropertyName("fallback")] public bool Fallback { get; init; }

    /// <summary>
    /// The same for every copy of this recommendation, whatever batch or replica made it: derived from (user, the
    /// users-changed topic, partition and offset of the signal that triggered it, model version) by
    /// <see cref="IdempotencyKeyFor"/>. A batch that is re-scored after a partial delivery publishes the same key
    /// again, so a consumer that keeps the first message per key removes the duplicates.
    /// </summary>
    [JsonPropertyName("idempotencyKey")] public string? IdempotencyKey { get; init; }

    /// <summary>
    /// 32 lowercase hex digits: the first 128 bits of SHA-256 over the length-prefixed UTF-8 fields
    /// <c>len:user|len:topic|partition|offset|len:version</c> (length-prefixed, so no user id can imitate another's key).
    /// </summary>
    public static string IdempotencyKeyFor(string userId, string topic, int partition, long offset, string modelVersion)
    {
        var text = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{userId.Length}:{userId}|{topic.Length}:{topic}|{partition}|{offset}|{modelVersion.Length}:{modelVersion}");
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..32];
    }
}

/// <summary>One entry of a recommendation list.</summary>
public sealed record RecommendedItem(
    [property: JsonPropertyName("itemId")] string ItemId,
    [property: JsonPropertyName("score")] float Score);
