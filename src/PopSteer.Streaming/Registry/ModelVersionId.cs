using System.Security.Cryptography;

namespace PopSteer.Streaming.Registry;

/// <summary>
/// A version id comes from the model's content: the SHA-256 of its manifest.json, which pins the hash of every
/// other file. Publishing the same directory twice yields the same version; any changed byte yields a new one.
/// </summary>
public static class ModelVersionId
{
    public const string ManifestFileName = "manifest.json";

    /// <summary>Length of the hex prefix used as the version id (64 bits: collisions are not a practical concern).</summary>
    public const int Length = 16;

    public static string Sha256Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string FromManifestSha(string manifestSha256) => manifestSha256[..Length];
}
