using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace PopSteer.Streaming.Registry;

/// <summary>
/// manifest.sig, stored beside manifest.json in a registry version (not listed in the manifest, so the version id
/// stays the manifest's own hash). It signs the FULL SHA-256 of the manifest bytes, which pins every other file's
/// SHA-256 and every tensor shape; the 64-bit version id alone is never what is trusted.
/// <code>{ "algorithm": "ECDSA-P256-SHA256", "keyId": "…", "manifestSha256": "…", "signature": "base64 (IEEE P1363 r||s)" }</code>
/// </summary>
public sealed record ModelSignature(string Algorithm, string KeyId, string ManifestSha256, byte[] Signature)
{
    public const string FileName = "manifest.sig";
    public const string EcdsaP256Sha256 = "ECDSA-P256-SHA256";

    /// <summary>Longest signature file read (a real one is ~250 bytes).</summary>
    public const int MaxBytes = 4096;

    // Domain separation: these bytes can never be mistaken for anything else this key might sign.
    private const string Context = "popsteer.model-manifest.v1:";

    /// <summary>The exact bytes that are signed for a manifest with this full SHA-256 (lowercase hex).</summary>
    public static byte[] SignedBytes(string manifestSha256) => Encoding.ASCII.GetBytes(Context + manifestSha256);

    /// <summary>A key's id: the first 16 hex digits of the SHA-256 of its SubjectPublicKeyInfo (DER).</summary>
    public static string KeyIdOf(ECDsa key) => Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16];

    public byte[] ToBytes()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("algorithm", Algorithm);
            w.WriteString("keyId", KeyId);
            w.WriteString("manifestSha256", ManifestSha256);
            w.WriteBase64String("signature", Signature);
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <exception cref="ModelSignatureException">Not a signature file this build reads.</exception>
    public static ModelSignature Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxBytes) throw new ModelSignatureException($"{FileName} is {bytes.Length} bytes, over the {MaxBytes}-byte limit.");
        try
        {
            using var doc = JsonDocument.Parse(bytes.ToArray());
            var root = doc.RootElement;
            string Text(string name) => root.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String
                ? p.GetString()! : throw new ModelSignatureException($"{FileName} has no string '{name}'.");
            var signature = root.TryGetProperty("signature", out var s) && s.ValueKind == JsonValueKind.String && s.TryGetBytesFromBase64(out var raw)
                ? raw : throw new ModelSignatureException($"{FileName} has no base64 'signature'.");
            return new ModelSignature(Text("algorithm"), Text("keyId"), Text("manifestSha256"), signature);
        }
        catch (JsonException e)
        {
            throw new ModelSignatureException($"{FileName} is not valid JSON ({e.Message}).", e);
        }
    }
}
