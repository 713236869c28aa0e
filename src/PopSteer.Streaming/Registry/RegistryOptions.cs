using System.ComponentModel.DataAnnotations;

namespace PopSteer.Streaming.Registry;

/// <summary>
/// Section "Registry": who may publish models (a signing key), what every reader trusts (public keys), how many
/// versions are kept, and how much a reader is willing to download. Read once at start-up.
/// </summary>
public sealed class RegistryOptions
{
    public const string SectionName = "Registry";

    /// <summary>
    /// PEM file with the ECDSA P-256 private key that signs every published manifest (PKCS#8 "PRIVATE KEY" or SEC1
    /// "EC PRIVATE KEY"). Only where models are published: the CLI's <c>publish</c> and the Retrainer. Empty = publish
    /// unsigned (a warning), which Scorers with a <see cref="PublicKeyFile"/> refuse.
    /// </summary>
    public string? SigningKeyFile { get; set; }

    /// <summary>
    /// PEM file with one or more ECDSA P-256 public keys ("PUBLIC KEY" blocks; several allow a key rotation). When
    /// set, a downloaded version must carry a signature by one of them, else it is refused. Empty = no signature
    /// check (the hashes are still checked, but they only detect damage, not forgery).
    /// </summary>
    public string? PublicKeyFile { get; set; }

    /// <summary>
    /// Versions kept after each publish: the newest <c>RetainVersions</c> by publish time, plus whatever
    /// <c>current</c> points at. 0 keeps every version.
    /// </summary>
    [Range(0, 10_000, ErrorMessage = "Registry:RetainVersions must be between 0 (keep all) and 10000.")]
    public int RetainVersions { get; set; } = 10;

    /// <summary>Largest stored version (all files, names included) a reader downloads; checked in Redis before any byte is fetched.</summary>
    [Range(1024L, 1L << 40, ErrorMessage = "Registry:MaxVersionBytes must be between 1024 and 2^40.")]
    public long MaxVersionBytes { get; set; } = 1L << 30;

    /// <summary>Most files one stored version may hold (manifest and signature included).</summary>
    [Range(2, 1000, ErrorMessage = "Registry:MaxVersionFiles must be between 2 and 1000.")]
    public int MaxVersionFiles { get; set; } = 16;
}
