using System.Text.Json.Serialization;

namespace PopSteer.Streaming.Contracts;

/// <summary>
/// Published on <c>popsteer.models</c> whenever the registry's <c>current</c> pointer moves (publish or rollback).
/// Scorers treat it as a wake-up call and re-read <c>current</c> from the registry, so announcements that arrive
/// out of order can never leave a scorer on a version the registry no longer points at.
/// </summary>
public sealed record ModelAnnouncement
{
    public const int CurrentSchemaVersion = 1;

    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    [JsonPropertyName("version")] public required string Version { get; init; }

    [JsonPropertyName("publishedAt")] public DateTimeOffset PublishedAt { get; init; }

    /// <summary>SHA-256 (hex) of the version's manifest.json, which in turn pins every file's hash.</summary>
    [JsonPropertyName("manifestSha256")] public required string ManifestSha256 { get; init; }

    /// <summary>"publish" or "rollback".</summary>
    [JsonPropertyName("reason")] public string Reason { get; init; } = "publish";
}
