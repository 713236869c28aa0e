namespace PopSteer.Streaming.Registry;

/// <summary>One version as the registry lists it.</summary>
public sealed record ModelVersionInfo(
    string Version,
    DateTimeOffset PublishedAt,
    string ManifestSha256,
    int Files,
    long Bytes,
    bool IsCurrent);
