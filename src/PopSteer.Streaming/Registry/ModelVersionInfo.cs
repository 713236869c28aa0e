namespace PopSteer.Streaming.Registry;

/// <summary>One version as the registry lists it.</summary>
/// <param name="SignedBy">Id of the key that signed its manifest (see <see cref="ModelSignature"/>); null when unsigned.</param>
public sealed record ModelVersionInfo(
    string Version,
    DateTimeOffset PublishedAt,
    string ManifestSha256,
    int Files,
    long Bytes,
    bool IsCurrent,
    string? SignedBy = null);
